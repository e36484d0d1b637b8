import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runDraft } from '../../test/fakes/control-plane/signing.ts';
import { findCanary } from '../../test/helpers/canary.ts';
import { AGENT_ID, protocolProblems, startLinkHarness } from '../../test/helpers/link-harness.ts';
import type { LinkHarness } from '../../test/helpers/link-harness.ts';
import { tempDir } from '../../test/helpers/temp-dir.ts';
import { waitFor } from '../../test/helpers/wait-for.ts';
import type { LedgerEntry } from '../ledger/entry.ts';
import { createFileLedgerStore, readLedgerFile } from '../ledger/file-store.ts';
import { createOutboundLedger } from '../ledger/ledger.ts';
import { verifyChain } from '../ledger/verify.ts';

let harness: LinkHarness | undefined;

afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

const sha256 = (body: Buffer): string => createHash('sha256').update(body).digest('hex');

describe('the link and the outbound ledger', () => {
  it('records every ack, heartbeat and event post with the digest of the body the control plane received', async () => {
    const file = join(tempDir('link-ledger'), 'ledger.ndjson');
    const ledger = createOutboundLedger({
      store: createFileLedgerStore(file),
      logger: { error: () => undefined } as never,
    });
    const h = await startLinkHarness({ outboundLedger: ledger });
    harness = h;
    h.fake.issue([runDraft({ runId: 'run-l', connectionId: 'fixture-main' })], AGENT_ID);
    await h.outbox.append('run-l', { type: 'queued' });
    await waitFor(() => h.fake.records.runEvents('run-l')[0], { what: 'the queued event' });
    await waitFor(
      () => h.fake.records.requests.filter((r) => r.path.endsWith('/heartbeat')).length >= 2,
      { what: 'two heartbeats' },
    );
    await h.link.stop();

    const lines = await readLedgerFile(file);
    expect(verifyChain({ anchor: { seq: 0, hash: '0'.repeat(64) }, entries: lines }).ok).toBe(true);
    const entries = lines.map((line) => JSON.parse(line) as LedgerEntry);
    const posts = h.fake.records.requests.filter((r) => r.method === 'POST');
    expect(entries.map((e) => `${e.path} ${e.status} ${e.sha256}`).sort()).toEqual(
      posts.map((r) => `${r.path} ${r.status} ${sha256(r.body)}`).sort(),
    );
    expect(new Set(entries.map((e) => e.kind))).toEqual(
      new Set(['controlPlane.ack', 'controlPlane.heartbeat', 'controlPlane.events']),
    );
    expect(entries.find((e) => e.kind === 'controlPlane.events')?.runId).toBe('run-l');
    expect(findCanary(h.fake.token, { ledger: lines.join('\n') })).toEqual([]);
    expect(protocolProblems(h.fake)).toEqual([]);
  });
});

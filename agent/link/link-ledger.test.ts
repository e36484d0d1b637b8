import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { RecordedRequest } from '../../test/fakes/control-plane/records.ts';
import { runDraft } from '../../test/fakes/control-plane/signing.ts';
import { findCanary } from '../../test/helpers/canary.ts';
import { AGENT_ID, protocolProblems, startLinkHarness } from '../../test/helpers/link-harness.ts';
import type { LinkHarness } from '../../test/helpers/link-harness.ts';
import { tempDir } from '../../test/helpers/temp-dir.ts';
import { heldClock } from '../../test/helpers/test-clock.ts';
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
    // The waits between turns are held: the next heartbeat goes out only when the test lets it,
    // so the link is stopped with no post on its way and every answer is recorded.
    const clock = heldClock();
    const h = await startLinkHarness({ outboundLedger: ledger, clock });
    harness = h;
    h.fake.issue([runDraft({ runId: 'run-l', connectionId: 'fixture-main' })], AGENT_ID);
    await h.outbox.append('run-l', { type: 'queued' });
    const posts = (): RecordedRequest[] =>
      h.fake.records.requests.filter((r) => r.method === 'POST');
    const heartbeats = (): number => posts().filter((r) => r.path.endsWith('/heartbeat')).length;
    await waitFor(
      () => {
        if (heartbeats() < 2) {
          clock.releaseAll();
        }
        return (
          heartbeats() >= 2 &&
          h.fake.records.acks.length > 0 &&
          h.fake.records.runEvents('run-l').length > 0
        );
      },
      { what: 'the ack, the queued event and two heartbeats' },
    );
    await waitFor(async () => (await readLedgerFile(file)).length === posts().length, {
      what: 'the answers to every post',
    });
    await h.link.stop();

    const lines = await readLedgerFile(file);
    expect(verifyChain({ anchor: { seq: 0, hash: '0'.repeat(64) }, entries: lines }).ok).toBe(true);
    const entries = lines.map((line) => JSON.parse(line) as LedgerEntry);
    expect(entries.map((e) => `${e.path} ${e.status} ${e.sha256}`).sort()).toEqual(
      posts()
        .map((r) => `${r.path} ${r.status} ${sha256(r.body)}`)
        .sort(),
    );
    expect(entries.filter((e) => e.kind === 'controlPlane.heartbeat')).toHaveLength(2);
    expect(new Set(entries.map((e) => e.kind))).toEqual(
      new Set(['controlPlane.ack', 'controlPlane.heartbeat', 'controlPlane.events']),
    );
    expect(entries.find((e) => e.kind === 'controlPlane.events')?.runId).toBe('run-l');
    expect(findCanary(h.fake.token, { ledger: lines.join('\n') })).toEqual([]);
    expect(protocolProblems(h.fake)).toEqual([]);
  });

  it('records a post the stopping link cut short after it reached the control plane, without a status', async () => {
    const file = join(tempDir('link-ledger'), 'ledger.ndjson');
    const ledger = createOutboundLedger({
      store: createFileLedgerStore(file),
      logger: { error: () => undefined } as never,
    });
    const h = await startLinkHarness({ outboundLedger: ledger, clock: heldClock() });
    harness = h;
    // Answered only after the link has stopped: the agent never hears how it went.
    h.fake.fail({ kind: 'slow', delayMs: 60_000, calls: ['heartbeat'] });
    const heartbeat = await waitFor(
      () => h.fake.records.requests.find((r) => r.path.endsWith('/heartbeat')),
      { what: 'the heartbeat' },
    );
    await h.link.stop();

    const entries = (await readLedgerFile(file)).map((line) => JSON.parse(line) as LedgerEntry);
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({
      kind: 'controlPlane.heartbeat',
      path: heartbeat.path,
      sha256: sha256(heartbeat.body),
    });
    expect(entries[0]).not.toHaveProperty('status');
    expect(heartbeat.status).toBe(0);
  });
});

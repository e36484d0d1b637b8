import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../../test/helpers/temp-dir.ts';
import { EMPTY_HEAD, sealEntry, serializeEntry, sha256Hex } from './entry.ts';
import type { LedgerEntry } from './entry.ts';
import { createFileLedgerStore, mirrorToFile, readLedgerFile } from './file-store.ts';
import { createOutboundLedger, draftOf } from './ledger.ts';
import type { LedgerStore, OutboundRequest } from './ledger.ts';
import { anchorOf, verifyChain } from './verify.ts';

const silent = { error: () => undefined } as never;

function request(n: number): OutboundRequest {
  return {
    kind: 'catalog.batch',
    runId: 'run-1',
    method: 'POST',
    url: `https://catalog.example:8443/v1/runs/run-1/batches?x=${n}`,
    body: Buffer.from(`body ${n}`),
    status: 201,
    assets: n,
    secretRefs: ['env://B', 'env://A', 'env://B'],
  };
}

function chainOf(count: number): string[] {
  let head = EMPTY_HEAD;
  const lines: string[] = [];
  for (let n = 1; n <= count; n += 1) {
    const entry = sealEntry(draftOf(request(n), Date.UTC(2026, 0, 1, 0, n)), head);
    lines.push(serializeEntry(entry));
    head = { seq: entry.seq, hash: entry.hash };
  }
  return lines;
}

function edit(line: string, change: Partial<LedgerEntry>): string {
  return JSON.stringify({ ...(JSON.parse(line) as LedgerEntry), ...change });
}

describe('the outbound ledger chain', () => {
  it('describes a request by host, path, size and the sha256 of the exact body', () => {
    const draft = draftOf(request(3), 0);
    expect(draft).toEqual({
      time: '1970-01-01T00:00:00.000Z',
      kind: 'catalog.batch',
      runId: 'run-1',
      method: 'POST',
      host: 'catalog.example:8443',
      path: '/v1/runs/run-1/batches',
      status: 201,
      bytes: 6,
      sha256: sha256Hex(Buffer.from('body 3')),
      assets: 3,
      secretRefs: ['env://A', 'env://B'],
    });
  });

  it('verifies an untouched chain and reports its head', () => {
    const lines = chainOf(4);
    const last = JSON.parse(lines[3] ?? '') as LedgerEntry;
    expect(verifyChain({ anchor: EMPTY_HEAD, entries: lines, head: last })).toEqual({
      ok: true,
      entries: 4,
      head: { seq: 4, hash: last.hash },
    });
  });

  it('names an entry whose content was edited', () => {
    const lines = chainOf(4);
    lines[1] = edit(lines[1] ?? '', { bytes: 999 });
    expect(verifyChain({ anchor: EMPTY_HEAD, entries: lines })).toMatchObject({
      ok: false,
      seq: 2,
      problem: 'entry 2 was altered: its content does not match its hash',
    });
  });

  it('names the gap left by a deleted entry', () => {
    const lines = chainOf(4);
    lines.splice(2, 1);
    expect(verifyChain({ anchor: EMPTY_HEAD, entries: lines })).toMatchObject({
      ok: false,
      seq: 4,
      problem: 'entry 4 follows entry 2: entries are missing or out of order',
    });
  });

  it('names entries that were swapped', () => {
    const lines = chainOf(4);
    [lines[1], lines[2]] = [lines[2] ?? '', lines[1] ?? ''];
    expect(verifyChain({ anchor: EMPTY_HEAD, entries: lines })).toMatchObject({
      ok: false,
      position: 2,
      seq: 3,
    });
  });

  it('catches an entry re-hashed after an edit, since the next entry links to the old hash', () => {
    const lines = chainOf(3);
    const { hash: _old, ...rest } = JSON.parse(lines[0] ?? '') as LedgerEntry;
    const forged = sealEntry({ ...rest, bytes: 1 }, EMPTY_HEAD);
    lines[0] = serializeEntry(forged);
    expect(verifyChain({ anchor: EMPTY_HEAD, entries: lines })).toMatchObject({
      ok: false,
      seq: 2,
      problem: 'entry 2 does not link to the hash of entry 1',
    });
  });

  it('notices entries removed from the end when the head is known', () => {
    const lines = chainOf(3);
    const last = JSON.parse(lines[2] ?? '') as LedgerEntry;
    expect(
      verifyChain({ anchor: EMPTY_HEAD, entries: lines.slice(0, 2), head: last }),
    ).toMatchObject({ ok: false, seq: 2 });
  });

  it('verifies a chain whose start was trimmed, from the anchor', () => {
    const lines = chainOf(5).slice(2);
    expect(verifyChain({ anchor: anchorOf(lines), entries: lines })).toMatchObject({
      ok: true,
      entries: 3,
    });
  });
});

describe('the file ledger', () => {
  it('continues the chain already in the file across processes', async () => {
    const file = join(tempDir('ledger'), 'ledger.ndjson');
    const first = createOutboundLedger({ store: createFileLedgerStore(file), logger: silent });
    await Promise.all([first.record(request(1)), first.record(request(2))]);
    const second = createOutboundLedger({ store: createFileLedgerStore(file), logger: silent });
    await second.record(request(3));
    const lines = await readLedgerFile(file);
    expect(verifyChain({ anchor: EMPTY_HEAD, entries: lines })).toMatchObject({
      ok: true,
      entries: 3,
    });
    expect((await second.head()).seq).toBe(3);
  });

  it('refuses to append after a last line that is not an entry', async () => {
    const file = join(tempDir('ledger'), 'ledger.ndjson');
    await writeFile(file, 'not an entry\n');
    const ledger = createOutboundLedger({ store: createFileLedgerStore(file), logger: silent });
    await expect(ledger.record(request(1))).rejects.toMatchObject({ code: 'LEDGER_BROKEN' });
    expect(await readFile(file, 'utf8')).toBe('not an entry\n');
  });

  it('mirrors the entries a store sealed to a file, in order', async () => {
    const file = join(tempDir('ledger'), 'mirror.ndjson');
    const inner = createFileLedgerStore(join(tempDir('ledger'), 'chain.ndjson'));
    const store: LedgerStore = mirrorToFile(inner, file);
    for (let n = 1; n <= 3; n += 1) {
      await store.append(draftOf(request(n), n));
    }
    const lines = await readLedgerFile(file);
    expect(lines.map((line) => (JSON.parse(line) as LedgerEntry).seq)).toEqual([1, 2, 3]);
    expect(verifyChain({ anchor: EMPTY_HEAD, entries: lines }).ok).toBe(true);
  });
});

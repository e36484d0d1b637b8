import { createHash } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { LedgerEntry } from '../../agent/ledger/entry.ts';
import { createOutboundLedger } from '../../agent/ledger/ledger.ts';
import { verifyChain } from '../../agent/ledger/verify.ts';
import { createRedisLedgerStore } from '../../agent/queue/outbound-ledger.ts';
import { syntheticAsset } from '../fakes/catalog/assets.ts';
import { catalogSinkHarness, pagedStream, pushRun } from '../fakes/catalog/sink-harness.ts';
import { startCatalogReceiver } from '../fakes/catalog-receiver.ts';
import type { CatalogReceiver } from '../fakes/catalog-receiver.ts';
import { findCanary, makeCanary } from '../helpers/canary.ts';
import { REDIS_URL, deleteKeys, dumpKeys, uniquePrefix } from './support/redis.ts';

let redis: Redis;
const prefixes: string[] = [];
const closers: (() => Promise<void>)[] = [];

beforeAll(() => {
  redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
});

afterEach(async () => {
  await Promise.all(closers.splice(0).map((close) => close()));
});

afterAll(async () => {
  for (const value of prefixes) {
    await deleteKeys(redis, value);
  }
  await redis.quit();
});

const sha256 = (body: Buffer): string => createHash('sha256').update(body).digest('hex');

async function setUp(token: string): Promise<{
  receiver: CatalogReceiver;
  store: ReturnType<typeof createRedisLedgerStore>;
  harness: ReturnType<typeof catalogSinkHarness>;
  keyPrefix: string;
}> {
  const keyPrefix = uniquePrefix('sink-ledger');
  prefixes.push(keyPrefix);
  const receiver = await startCatalogReceiver({ token });
  closers.push(() => receiver.close());
  const store = createRedisLedgerStore({ client: redis, prefix: keyPrefix, retentionDays: 30 });
  const harness = catalogSinkHarness({
    catalog: { url: receiver.url, token: 'env://CATALOG_TOKEN', batchMaxAssets: 100 },
    tokens: [token],
    ledger: createOutboundLedger({ store, logger: { error: () => undefined } as never }),
  });
  closers.push(() => harness.sink.close());
  return { receiver, store, harness, keyPrefix };
}

describe('the outbound ledger of catalog pushes', () => {
  it('records every request the catalog received, with the digest of its exact body', async () => {
    const token = makeCanary('catalog-token');
    const { receiver, store, harness, keyPrefix } = await setUp(token);
    receiver.script({ kind: 'status', status: 503, retryAfterSeconds: 0 });
    const result = await pushRun(harness.sink, {
      runId: 'run-ledger-1',
      events: pagedStream(0, 750, 50, (index) => syntheticAsset(index, { prefix: 'cyera/l/ds' })),
      secretRefs: ['env://CYERA_SECRET', 'env://CYERA_CLIENT_ID'],
    });
    expect(result.error).toBeUndefined();

    const chain = await store.read();
    expect(verifyChain(chain)).toMatchObject({ ok: true, entries: receiver.requests.length });
    const entries = chain.entries.map((line) => JSON.parse(line) as LedgerEntry);
    const recorded = entries.map((e) => `${e.path} ${e.status} ${e.bytes} ${e.sha256}`).sort();
    const received = receiver.requests
      .map((r) => `${r.path} ${String(r.outcome)} ${r.body.length} ${sha256(r.body)}`)
      .sort();
    expect(recorded).toEqual(received);
    // 8 batches, one of them refused once with 503, and the completion.
    expect(entries.filter((e) => e.kind === 'catalog.batch')).toHaveLength(9);
    expect(entries.filter((e) => e.status === 503)).toHaveLength(1);
    expect(entries.filter((e) => e.kind === 'catalog.complete')).toMatchObject([
      { status: 200, assets: 750, runId: 'run-ledger-1' },
    ]);
    expect(
      entries.filter((e) => e.kind === 'catalog.batch').reduce((n, e) => n + (e.assets ?? 0), 0),
    ).toBe(750 + 100);
    expect(
      entries.every((e) => e.secretRefs?.join() === 'env://CYERA_CLIENT_ID,env://CYERA_SECRET'),
    ).toBe(true);
    expect(findCanary(token, await dumpKeys(redis, keyPrefix))).toEqual([]);
  });
});

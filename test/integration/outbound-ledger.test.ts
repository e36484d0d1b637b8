import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createOutboundLedger, draftOf } from '../../agent/ledger/ledger.ts';
import type { OutboundRequest } from '../../agent/ledger/ledger.ts';
import type { LedgerEntry } from '../../agent/ledger/entry.ts';
import { verifyChain } from '../../agent/ledger/verify.ts';
import { createRedisLedgerStore } from '../../agent/queue/outbound-ledger.ts';
import { REDIS_URL, deleteKeys, uniquePrefix } from './support/redis.ts';

const silent = { error: () => undefined } as never;
const DAY_MS = 24 * 60 * 60 * 1000;
let redis: Redis;
const prefixes: string[] = [];

function prefix(): string {
  const value = uniquePrefix('outbound-ledger');
  prefixes.push(value);
  return value;
}

function heartbeat(n: number): OutboundRequest {
  return {
    kind: 'controlPlane.heartbeat',
    method: 'POST',
    url: 'https://cp.example/v1/agents/a/heartbeat',
    body: JSON.stringify({ n }),
    status: 200,
  };
}

beforeAll(() => {
  redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
});

afterAll(async () => {
  for (const value of prefixes) {
    await deleteKeys(redis, value);
  }
  await redis.quit();
});

describe('the Redis outbound ledger', () => {
  it('chains appends racing from several clients into one verifiable sequence', async () => {
    const keyPrefix = prefix();
    const clients = [0, 1, 2, 3].map(() => new Redis(REDIS_URL, { maxRetriesPerRequest: 1 }));
    try {
      const ledgers = clients.map((client) =>
        createOutboundLedger({
          store: createRedisLedgerStore({ client, prefix: keyPrefix, retentionDays: 30 }),
          logger: silent,
        }),
      );
      await Promise.all(
        ledgers.flatMap((ledger, c) =>
          Array.from({ length: 15 }, (_, n) => ledger.record(heartbeat(c * 100 + n))),
        ),
      );
      const store = createRedisLedgerStore({ client: redis, prefix: keyPrefix, retentionDays: 30 });
      const chain = await store.read();
      expect(chain.entries).toHaveLength(60);
      expect(verifyChain(chain)).toMatchObject({ ok: true, entries: 60, head: { seq: 60 } });
    } finally {
      await Promise.all(clients.map((client) => client.quit()));
    }
  });

  it('appends concurrent records of one process in batches, one compare-and-set per batch', async () => {
    const keyPrefix = prefix();
    const client = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
    try {
      const evals = vi.spyOn(client, 'eval');
      const gets = vi.spyOn(client, 'get');
      const ledger = createOutboundLedger({
        store: createRedisLedgerStore({ client, prefix: keyPrefix, retentionDays: 30 }),
        logger: silent,
      });
      // 100 records in one turn: two calls (at most 64 entries each), never a retry.
      await Promise.all(Array.from({ length: 100 }, (_, n) => ledger.record(heartbeat(n))));
      expect(evals).toHaveBeenCalledTimes(2);
      // One record alone, then five while its call is in flight: the five share the next call.
      const first = ledger.record(heartbeat(100));
      await vi.waitFor(() => {
        expect(evals).toHaveBeenCalledTimes(3);
      });
      await Promise.all([first, ...[1, 2, 3, 4, 5].map((n) => ledger.record(heartbeat(100 + n)))]);
      expect(evals).toHaveBeenCalledTimes(4);
      expect(gets).toHaveBeenCalledTimes(1);
      const store = createRedisLedgerStore({ client: redis, prefix: keyPrefix, retentionDays: 30 });
      const chain = await store.read();
      const bodies = chain.entries.map((line) => (JSON.parse(line) as LedgerEntry).sha256);
      expect(bodies).toEqual(
        Array.from({ length: 106 }, (_, n) => draftOf(heartbeat(n), 0).sha256),
      );
      expect(verifyChain(chain)).toMatchObject({ ok: true, entries: 106, head: { seq: 106 } });
    } finally {
      await client.quit();
    }
  });

  it('drops entries past the retention and keeps the chain verifiable from its anchor', async () => {
    const keyPrefix = prefix();
    let nowMs = Date.UTC(2026, 0, 1);
    const store = createRedisLedgerStore({
      client: redis,
      prefix: keyPrefix,
      retentionDays: 2,
      now: () => nowMs,
    });
    const ledger = createOutboundLedger({ store, logger: silent, now: () => nowMs });
    for (let n = 1; n <= 6; n += 1) {
      await ledger.record(heartbeat(n));
      nowMs += DAY_MS;
    }
    const chain = await store.read();
    const seqs = chain.entries.map((line) => (JSON.parse(line) as LedgerEntry).seq);
    expect(seqs).toEqual([4, 5, 6]);
    expect(chain.anchor.seq).toBe(3);
    expect(verifyChain(chain)).toMatchObject({ ok: true, head: { seq: 6 } });
  });

  it('fails verification naming an entry edited, deleted or moved in Redis', async () => {
    const keyPrefix = prefix();
    const store = createRedisLedgerStore({ client: redis, prefix: keyPrefix, retentionDays: 30 });
    const ledger = createOutboundLedger({ store, logger: silent });
    for (let n = 1; n <= 4; n += 1) {
      await ledger.record(heartbeat(n));
    }
    const key = `${keyPrefix}:ledger:entries`;
    const original = await redis.lrange(key, 0, -1);
    const second = JSON.parse(original[1] ?? '') as LedgerEntry;
    await redis.lset(key, 1, JSON.stringify({ ...second, status: 500 }));
    expect(verifyChain(await store.read())).toMatchObject({ ok: false, seq: 2 });
    await redis.lset(key, 1, original[1] ?? '');
    await redis.lrem(key, 1, original[2] ?? '');
    expect(verifyChain(await store.read())).toMatchObject({ ok: false, seq: 4 });
    await redis.del(key);
    await redis.rpush(
      key,
      original[0] ?? '',
      original[2] ?? '',
      original[1] ?? '',
      original[3] ?? '',
    );
    expect(verifyChain(await store.read())).toMatchObject({ ok: false, seq: 3 });
  });
});

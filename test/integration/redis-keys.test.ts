import { readFileSync } from 'node:fs';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { createRedisInstructionLedger } from '../../agent/link/ledger.ts';
import { createCancelChannel } from '../../agent/queue/cancel.ts';
import { createConnectionLeases } from '../../agent/queue/lease.ts';
import { createRunLedger } from '../../agent/queue/ledger.ts';
import { createRedisLedgerStore } from '../../agent/queue/outbound-ledger.ts';
import { createRedisOutbox } from '../../agent/queue/outbox.ts';
import { openRunQueue } from '../../agent/queue/queue.ts';
import { captureLogs } from '../helpers/capture-logs.ts';
import { REDIS_URL, deleteKeys, keysOf, uniquePrefix } from './support/redis.ts';

const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
const prefix = uniquePrefix('keys');

afterEach(async () => {
  await deleteKeys(redis, prefix);
  redis.disconnect();
});

/** The key patterns of the table in docs/operations.md, as regular expressions. */
function documentedPatterns(): Map<string, RegExp> {
  const text = readFileSync(new URL('../../docs/operations.md', import.meta.url), 'utf8');
  const table = text.slice(text.indexOf('| keys | type | content |'));
  const rows = table.split('\n\n')[0]?.split('\n').slice(2) ?? [];
  return new Map(
    rows.map((row) => {
      const pattern = /^\| `([^`]+)`/.exec(row)?.[1] ?? row;
      const source = pattern
        .split(/(<[^>]+>|\*)/)
        .map((part) =>
          part === '<prefix>'
            ? escape(prefix)
            : part === '*' || part.startsWith('<')
              ? '.+'
              : escape(part),
        )
        .join('');
      return [pattern, new RegExp(`^${source}$`)];
    }),
  );
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

describe('the Redis keys in docs/operations.md', () => {
  it('are exactly the keys the queue, outbox, ledgers, leases, cancels and outbound ledger write', async () => {
    const logger = captureLogs().logger;
    const queue = openRunQueue(redis, prefix);
    await queue.add('run', { kind: 'run', spec: { runId: 'r1' } } as never, { jobId: 'r1' });
    await queue.close();
    await createRunLedger({ client: redis, prefix, ttlSeconds: 60 }).markSeen('r1');
    const outbox = createRedisOutbox({
      client: redis,
      prefix,
      maxLength: 100,
      seqTtlSeconds: 60,
      logger,
    });
    await outbox.append('r1', { type: 'queued' });
    await createRedisInstructionLedger({ redis, prefix }).firstSeen('ins-1', Date.now() + 60_000);
    const leases = createConnectionLeases({ client: redis, prefix, ttlMs: 60_000, logger });
    const lease = await leases.acquire('connection:fx', 'r1', 1);
    await createCancelChannel({ client: redis, prefix, ttlSeconds: 60, logger }).request('r1');
    // Two appends a retention apart: the first entry is dropped, so the anchor is written too.
    let nowMs = Date.now();
    const ledger = createRedisLedgerStore({
      client: redis,
      prefix,
      retentionDays: 1,
      now: () => nowMs,
    });
    for (const day of [0, 2]) {
      nowMs += day * 24 * 60 * 60 * 1000;
      await ledger.append({
        time: new Date(nowMs).toISOString(),
        kind: 'catalog.batch',
        runId: 'r1',
        method: 'POST',
        host: 'catalog.example:443',
        path: '/v1/runs/r1/batches',
        status: 201,
        bytes: 6,
        sha256: '0'.repeat(64),
        assets: 3,
        secretRefs: [],
      });
    }

    const keys = await keysOf(redis, prefix);
    const patterns = documentedPatterns();
    const undocumented = keys.filter((key) => ![...patterns.values()].some((p) => p.test(key)));
    const unwritten = [...patterns].filter(([, p]) => !keys.some((key) => p.test(key)));
    await lease?.release();
    expect(undocumented).toEqual([]);
    expect(unwritten.map(([pattern]) => pattern)).toEqual([]);
    expect(patterns.size).toBe(10);
  });
});

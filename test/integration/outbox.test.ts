import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { createRedisOutbox } from '../../agent/queue/outbox.ts';
import type { EventOutbox } from '../../agent/run/contract.ts';
import { captureLogs } from '../helpers/capture-logs.ts';
import { REDIS_URL, deleteKeys, uniquePrefix } from './support/redis.ts';

const clients: Redis[] = [];
const prefixes: string[] = [];

afterEach(async () => {
  const admin = new Redis(REDIS_URL);
  for (const prefix of prefixes.splice(0)) {
    await deleteKeys(admin, prefix);
  }
  admin.disconnect();
  clients.splice(0).forEach((client) => {
    client.disconnect();
  });
});

/** An outbox as one process would open it: its own connections. */
function open(prefix: string, maxLength = 10_000): EventOutbox {
  const client = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  const reader = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  clients.push(client, reader);
  return createRedisOutbox({
    client,
    reader,
    prefix,
    maxLength,
    seqTtlSeconds: 60,
    logger: captureLogs().logger,
  });
}

function fresh(): string {
  const prefix = uniquePrefix('outbox');
  prefixes.push(prefix);
  return prefix;
}

const read = (outbox: EventOutbox, max = 1_000) =>
  outbox.read({ signal: AbortSignal.timeout(5_000), max, blockMs: 10 });

describe('event outbox', () => {
  it('numbers each run’s events from 0 in stream order, whichever process appends them', async () => {
    const prefix = fresh();
    const [a, b, link] = [open(prefix), open(prefix), open(prefix)];
    await a.append('run-1', { type: 'queued' });
    await b.append('run-1', { type: 'started', attempt: 1 });
    await a.append('run-2', { type: 'queued' });
    await Promise.all(
      Array.from({ length: 20 }, (_, index) =>
        (index % 2 === 0 ? a : b).append('run-1', {
          type: 'progress',
          attempt: 1,
          progress: { assets: index, batches: 0, bytes: 0 },
        }),
      ),
    );
    const entries = await read(link);
    const run1 = entries.map((entry) => entry.event).filter((event) => event.runId === 'run-1');
    expect(run1.map((event) => event.seq)).toEqual(Array.from({ length: 22 }, (_, index) => index));
    expect(run1.slice(0, 2).map((event) => event.type)).toEqual(['queued', 'started']);
    expect(entries.find((entry) => entry.event.runId === 'run-2')?.event).toMatchObject({
      type: 'queued',
      seq: 0,
    });
    expect(Date.parse(entries[0]?.event.at ?? '')).toBeGreaterThan(Date.now() - 10_000);
  });

  it('reads after its cursor, and a new reader delivers again what was never acknowledged', async () => {
    const prefix = fresh();
    const writer = open(prefix);
    const link = open(prefix);
    for (const type of ['queued', 'cancelled'] as const) {
      await writer.append('run-1', type === 'queued' ? { type } : { type, attempt: 0 });
    }
    const first = await read(link);
    expect(first).toHaveLength(2);
    expect(await read(link)).toEqual([]);
    await link.ack([first[0]?.id ?? '']);
    expect(await link.pending()).toBe(1);
    const restarted = open(prefix);
    const again = await read(restarted);
    expect(again.map((entry) => entry.event.type)).toEqual(['cancelled']);
    await restarted.ack(again.map((entry) => entry.id));
    expect(await restarted.pending()).toBe(0);
  });

  it('waits up to blockMs for new entries and returns them as soon as they arrive', async () => {
    const prefix = fresh();
    const link = open(prefix);
    const writer = open(prefix);
    const started = Date.now();
    const waiting = link.read({ signal: AbortSignal.timeout(5_000), max: 10, blockMs: 2_000 });
    setTimeout(() => {
      void writer.append('run-9', { type: 'queued' });
    }, 100);
    const entries = await waiting;
    expect(entries).toHaveLength(1);
    expect(Date.now() - started).toBeLessThan(1_500);
  });

  it('returns at once, empty, when its signal aborts mid-wait', async () => {
    const link = open(fresh());
    const controller = new AbortController();
    const started = Date.now();
    const waiting = link.read({ signal: controller.signal, max: 10, blockMs: 5_000 });
    setTimeout(() => {
      controller.abort();
    }, 50);
    expect(await waiting).toEqual([]);
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  it('keeps at most about maxLength undelivered events, dropping the oldest', async () => {
    const prefix = fresh();
    const outbox = open(prefix, 1_000);
    for (let index = 0; index < 3_000; index += 1) {
      await outbox.append(`run-${index}`, { type: 'queued' });
    }
    const pending = await outbox.pending();
    expect(pending).toBeGreaterThanOrEqual(1_000);
    expect(pending).toBeLessThan(2_000);
  });
});

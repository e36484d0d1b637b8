import { afterEach, describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/wait-for.ts';
import { queueHarness, runSpec, scriptedExecutor, untilAborted } from './support/queue-harness.ts';
import type { QueueHarness } from './support/queue-harness.ts';
import { uniquePrefix } from './support/redis.ts';
import { startCluster, startSentinel } from './support/redis-topology.ts';
import type { RedisTopology } from './support/redis-topology.ts';

let harness: QueueHarness | undefined;
let topology: RedisTopology | undefined;

afterEach(async () => {
  await harness?.close();
  await topology?.close();
  harness = undefined;
  topology = undefined;
});

/**
 * Every Redis feature Perimeter uses, through one URL form: the queue and its worker, the event
 * outbox (a two-key script), the per-connection leases (a multi-key script), cancellation
 * (keys and pub/sub) and a schedule.
 */
async function exercise(h: QueueHarness): Promise<void> {
  const executor = scriptedExecutor((spec, options) =>
    spec.runId === 'run-cancel' ? untilAborted(options.signal) : Promise.resolve({ assets: 2 }),
  );
  const worker = h.node({ executor });
  const link = h.node();
  expect(await link.side.target.enqueueRun(runSpec('run-1'))).toBe('queued');
  expect(await link.side.target.enqueueRun(runSpec('run-1'))).toBe('duplicate');
  await waitFor(async () => (await h.events('run-1')).some((event) => event.type === 'succeeded'), {
    timeoutMs: 10_000,
  });
  expect((await h.events('run-1')).map((event) => event.type)).toEqual([
    'queued',
    'started',
    'succeeded',
  ]);
  await link.side.target.enqueueRun(runSpec('run-cancel'));
  await waitFor(() => worker.worker?.active().length === 1, { timeoutMs: 10_000 });
  expect(await link.side.target.cancelRun('run-cancel')).toBe('cancelled');
  await waitFor(
    async () => (await h.events('run-cancel')).some((event) => event.type === 'cancelled'),
    { timeoutMs: 5_000 },
  );
  const run = {
    operation: 'extract' as const,
    connectionId: 'fx',
    params: {},
    origin: 'local' as const,
  };
  // A 6-field cron ticks every second; everySeconds is at least a minute.
  await link.side.target.upsertSchedule({ scheduleId: 'every-second', cron: '* * * * * *', run });
  await waitFor(() => executor.calls.some((spec) => spec.runId.startsWith('every-second.')), {
    timeoutMs: 5_000,
  });
  expect(worker.connections.health().ready).toBe(true);
}

describe('Redis topologies', () => {
  it('works through Sentinel, found by master name', async () => {
    topology = await startSentinel();
    harness = queueHarness(uniquePrefix('sentinel'), {}, 1, topology.url);
    await exercise(harness);
  });

  it('works on a Cluster, every key under the prefix hash tag', async () => {
    topology = await startCluster();
    harness = queueHarness(uniquePrefix('cluster'), {}, 1, topology.url);
    expect(harness.prefix).toMatch(/^\{test-cluster-[0-9a-f]+\}$/);
    await exercise(harness);
  });
});

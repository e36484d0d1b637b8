import { Worker } from 'bullmq';
import { afterEach, describe, expect, it } from 'vitest';
import { QUEUE_NAME } from '../../agent/queue/queue.ts';
import { watchStalledFailures } from '../../agent/queue/stalled.ts';
import { applyLocalJobs } from '../../agent/daemon/standalone.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { queueHarness, runSpec, scriptedExecutor } from './support/queue-harness.ts';
import type { QueueHarness } from './support/queue-harness.ts';
import { uniquePrefix } from './support/redis.ts';

let harness: QueueHarness | undefined;

afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

function start(queue: Record<string, unknown> = {}, slots = 1): QueueHarness {
  harness = queueHarness(uniquePrefix('schedules'), queue, slots);
  return harness;
}

const types = (events: readonly { type: string }[]): string[] => events.map((event) => event.type);

describe('schedules', () => {
  it('runs a schedule tick by tick with run ids derived from the tick, and stops after unschedule', async () => {
    const h = start();
    const executor = scriptedExecutor(() => Promise.resolve());
    const node = h.node({ executor });
    const run = {
      operation: 'extract' as const,
      connectionId: 'fx',
      params: {},
      origin: 'controlPlane' as const,
    };
    // A 6-field cron ticks every second; everySeconds is at least a minute.
    await node.side.target.upsertSchedule({ scheduleId: 'nightly', cron: '* * * * * *', run });
    await waitFor(() => executor.calls.length >= 2, { timeoutMs: 5_000 });
    expect(executor.calls[0]?.runId).toMatch(/^nightly\.\d{13}$/);
    const events = await h.events(executor.calls[0]?.runId);
    expect(types(events)).toEqual(['queued', 'started', 'succeeded']);
    expect(await node.side.target.removeSchedule('nightly')).toBe('removed');
    expect(await node.side.target.removeSchedule('nightly')).toBe('unknown');
    const count = executor.calls.length;
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(executor.calls.length).toBeLessThanOrEqual(count + 1);
  });

  it('refuses a schedule with neither of cron and everySeconds, an interval under a minute, or a cron that does not parse', async () => {
    const h = start();
    const node = h.node();
    const run = {
      operation: 'extract' as const,
      connectionId: 'fx',
      params: {},
      origin: 'local' as const,
    };
    await expect(node.side.target.upsertSchedule({ scheduleId: 's1', run })).rejects.toMatchObject({
      code: 'JOB_INVALID',
    });
    await expect(
      node.side.target.upsertSchedule({ scheduleId: 's1', everySeconds: 1, run }),
    ).rejects.toMatchObject({
      code: 'JOB_INVALID',
      context: { problems: ['everySeconds'] },
    });
    await expect(
      node.side.target.upsertSchedule({ scheduleId: 's2', cron: 'not a cron at all', run }),
    ).rejects.toMatchObject({
      code: 'JOB_INVALID',
    });
    await expect(
      node.side.target.upsertSchedule({
        scheduleId: 's3',
        cron: '0 3 * * *',
        timezone: 'Mars/Olympus',
        run,
      }),
    ).rejects.toMatchObject({ code: 'JOB_INVALID' });
    expect(await node.side.queue.getJobSchedulersCount()).toBe(0);
  });
});

describe('runs lost to dead workers', () => {
  it('reports RUN_STALLED when a run lost its worker more often than maxStalledCount allows', async () => {
    const h = start({ maxStalledCount: 0, lockDurationMs: 1_000, stalledIntervalMs: 500 });
    const link = h.node();
    const watcher = watchStalledFailures({
      client: link.side.client,
      prefix: h.prefix,
      queue: link.side.queue,
      outbox: link.side.outbox,
      logger: h.logs.logger,
    });
    try {
      await link.side.target.enqueueRun(runSpec('run-orphan'));
      // A worker that takes the run and dies at once: nobody renews its lock.
      const dead = new Worker(QUEUE_NAME, null, {
        connection: link.side.client,
        prefix: h.prefix,
        lockDuration: 1_000,
      });
      expect((await dead.getNextJob('dead-token')).id).toBe('run-orphan');
      await dead.close(true);
      h.node({ executor: scriptedExecutor(() => Promise.resolve()) });
      const events = await waitFor(async () => {
        const list = await h.events('run-orphan');
        return list.some((event) => event.type === 'failed') ? list : undefined;
      });
      expect(events.at(-1)).toMatchObject({
        type: 'failed',
        willRetry: false,
        error: { code: 'RUN_STALLED', retryable: false },
      });
    } finally {
      await watcher.close();
    }
  });
});

describe('standalone jobs', () => {
  it('queues one-off jobs once per boot and keeps the local schedulers in step with the config', async () => {
    const h = start();
    const link = h.node();
    const job = (id: string, schedule?: Record<string, unknown>) => ({
      id,
      connection: 'fx',
      operation: 'extract' as const,
      params: {},
      ...(schedule === undefined ? {} : { schedule }),
    });
    const apply = (jobs: ReturnType<typeof job>[], bootId: string) =>
      applyLocalJobs({
        jobs,
        target: link.side.target,
        queue: link.side.queue,
        bootId,
        logger: h.logs.logger,
      });
    const run = {
      operation: 'extract' as const,
      connectionId: 'fx',
      params: {},
      origin: 'controlPlane' as const,
    };
    await link.side.target.upsertSchedule({ scheduleId: 'from-cp', cron: '0 4 * * *', run });

    const first = await apply(
      [job('once'), job('a', { everySeconds: 3600 }), job('b', { cron: '0 2 * * *' })],
      'boot1',
    );
    expect(first).toEqual({ queued: 1, duplicates: 0, schedules: 2, removedSchedules: 0 });
    expect(await link.side.queue.getJob('once.boot1')).toBeDefined();
    const again = await apply([job('once'), job('a', { everySeconds: 3600 })], 'boot1');
    expect(again).toEqual({ queued: 0, duplicates: 1, schedules: 1, removedSchedules: 1 });
    const ids = (await link.side.queue.getJobSchedulers()).map((s) => s.key).sort();
    expect(ids).toEqual(['from-cp', 'local.a']);
  });
});

import { afterEach, describe, expect, it } from 'vitest';
import { PerimeterError } from '../../agent/plugin-api/index.ts';
import type { RunJob } from '../../agent/queue/jobs.ts';
import type { RunCheckpoint } from '../../agent/run/types.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { queueHarness, runSpec, scriptedExecutor, untilAborted } from './support/queue-harness.ts';
import type { QueueHarness } from './support/queue-harness.ts';
import { uniquePrefix } from './support/redis.ts';

let harness: QueueHarness | undefined;

afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

function start(queue: Record<string, unknown> = {}, slots = 1): QueueHarness {
  harness = queueHarness(uniquePrefix('queue'), queue, slots);
  return harness;
}

const types = (events: readonly { type: string }[]): string[] => events.map((event) => event.type);

describe('run queue', () => {
  it('runs a queued run once and reports queued, started and succeeded with increasing seq', async () => {
    const h = start();
    const executor = scriptedExecutor(() => Promise.resolve({ assets: 3 }));
    const node = h.node({ executor });
    expect(await node.side.target.enqueueRun(runSpec('run-a'))).toBe('queued');
    const events = await waitFor(async () => {
      const list = await h.events('run-a');
      return list.some((event) => event.type === 'succeeded') ? list : undefined;
    });
    expect(types(events)).toEqual(['queued', 'started', 'succeeded']);
    expect(events.map((event) => event.seq)).toEqual([0, 1, 2]);
    expect(events[2]).toMatchObject({
      attempt: 1,
      result: { assets: 3, connector: 'fixture', operation: 'extract' },
    });
    expect(executor.calls).toHaveLength(1);
  });

  it('treats a redelivered run id as a duplicate, even after the finished job was trimmed', async () => {
    const h = start({ keepCompleted: 0 });
    const executor = scriptedExecutor(() => Promise.resolve());
    const node = h.node({ executor });
    expect(await node.side.target.enqueueRun(runSpec('run-dup'))).toBe('queued');
    await waitFor(
      async () =>
        (await node.side.queue.getJobCounts('completed', 'active', 'waiting'))['active'] === 0 &&
        executor.calls.length === 1,
    );
    await waitFor(async () => (await node.side.queue.getJob('run-dup')) === undefined);
    expect(await node.side.target.enqueueRun(runSpec('run-dup'))).toBe('duplicate');
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(executor.calls).toHaveLength(1);
  });

  it('refuses a run whose id BullMQ could not take, naming the key', async () => {
    const h = start();
    const node = h.node();
    await expect(node.side.target.enqueueRun(runSpec('a:b'))).rejects.toMatchObject({
      code: 'JOB_INVALID',
      message: expect.stringContaining('spec.runId') as string,
    });
  });

  it('fails at once a job whose payload does not validate, and reports JOB_INVALID under its job id', async () => {
    const h = start({ attempts: 3 });
    const executor = scriptedExecutor(() => Promise.resolve());
    const node = h.node({ executor });
    // A payload written by a foreign or older process, straight into the queue.
    const foreign = {
      kind: 'run',
      spec: { runId: 'run-foreign', operation: 'wipe' },
    } as unknown as RunJob;
    await node.side.queue.add('run', foreign, { jobId: 'run-foreign' });
    const events = await waitFor(async () => {
      const list = await h.events('run-foreign');
      return list.length > 0 ? list : undefined;
    });
    expect(events).toMatchObject([
      { type: 'failed', willRetry: false, error: { code: 'JOB_INVALID' } },
    ]);
    expect(executor.calls).toHaveLength(0);
    await waitFor(
      async () => (await (await node.side.queue.getJob('run-foreign'))?.getState()) === 'failed',
    );
  });

  it('retries a retryable failure, never sooner than its Retry-After, and reports whether it will retry', async () => {
    const h = start({ attempts: 3 });
    const startedAt: number[] = [];
    const executor = scriptedExecutor(() => {
      startedAt.push(Date.now());
      if (startedAt.length === 1) {
        throw new PerimeterError('SOURCE_RATE_LIMITED', 'slow down', { retryAfterMs: 400 });
      }
      return Promise.resolve();
    });
    const node = h.node({ executor });
    await node.side.target.enqueueRun(runSpec('run-429'));
    const events = await waitFor(async () => {
      const list = await h.events('run-429');
      return list.some((event) => event.type === 'succeeded') ? list : undefined;
    });
    expect(types(events)).toEqual(['queued', 'started', 'failed', 'started', 'succeeded']);
    expect(events[2]).toMatchObject({
      attempt: 1,
      willRetry: true,
      error: { code: 'SOURCE_RATE_LIMITED', retryable: true },
    });
    expect(events[3]).toMatchObject({ attempt: 2 });
    expect((startedAt[1] ?? 0) - (startedAt[0] ?? 0)).toBeGreaterThanOrEqual(390);
  });

  it('fails a non-retryable error at once, without using the remaining attempts', async () => {
    const h = start({ attempts: 5 });
    const executor = scriptedExecutor(() =>
      Promise.reject(new PerimeterError('SOURCE_AUTH_FAILED', '401 from GET /v1/items')),
    );
    const node = h.node({ executor });
    await node.side.target.enqueueRun(runSpec('run-401'));
    await waitFor(async () => (await node.side.queue.getJob('run-401'))?.finishedOn !== undefined);
    const job = await node.side.queue.getJob('run-401');
    expect(await job?.getState()).toBe('failed');
    expect(job?.attemptsMade).toBe(1);
    expect(job?.failedReason).toBe('SOURCE_AUTH_FAILED: 401 from GET /v1/items');
    const events = await h.events('run-401');
    expect(events.at(-1)).toMatchObject({
      type: 'failed',
      willRetry: false,
      error: { code: 'SOURCE_AUTH_FAILED' },
    });
    expect(executor.calls).toHaveLength(1);
  });

  it('resumes a retried run from the checkpoint its failed attempt committed', async () => {
    const h = start({ attempts: 2 });
    const checkpoint: RunCheckpoint = {
      cursor: { offset: 40 },
      nextSeq: 2,
      assets: 40,
      bytes: 4000,
    };
    const seen: (RunCheckpoint | undefined)[] = [];
    const executor = scriptedExecutor(async (_spec, options) => {
      seen.push(options.checkpoint);
      if (seen.length === 1) {
        await options.hooks?.onCheckpoint?.(checkpoint);
        throw new PerimeterError('SINK_UNAVAILABLE', 'catalog 503');
      }
    });
    const node = h.node({ executor });
    await node.side.target.enqueueRun(runSpec('run-resume'));
    await waitFor(() => seen.length === 2);
    expect(seen).toEqual([undefined, checkpoint]);
  });

  it('stops a running run within a second of its cancel and reports it cancelled, not failed', async () => {
    const h = start({ attempts: 3 });
    const executor = scriptedExecutor((_spec, options) => untilAborted(options.signal));
    const worker = h.node({ executor });
    const link = h.node();
    await link.side.target.enqueueRun(runSpec('run-cancel'));
    await waitFor(() => worker.worker?.active().length === 1);
    const asked = Date.now();
    expect(await link.side.target.cancelRun('run-cancel')).toBe('cancelled');
    await waitFor(async () =>
      (await h.events('run-cancel')).some((event) => event.type === 'cancelled'),
    );
    expect(Date.now() - asked).toBeLessThan(1_000);
    const job = await worker.side.queue.getJob('run-cancel');
    await waitFor(async () => (await job?.getState()) === 'failed');
    expect(types(await h.events('run-cancel'))).toEqual(['queued', 'started', 'cancelled']);
    expect(executor.calls).toHaveLength(1);
  });

  it('cancels a waiting run by removing it from the queue', async () => {
    const h = start();
    const link = h.node();
    await link.side.target.enqueueRun(runSpec('run-waiting'));
    expect(await link.side.target.cancelRun('run-waiting')).toBe('cancelled');
    expect(await link.side.queue.getJob('run-waiting')).toBeUndefined();
    expect(types(await h.events('run-waiting'))).toEqual(['queued', 'cancelled']);
    expect(await link.side.target.cancelRun('run-never-seen')).toBe('unknown');
  });

  it('refuses, when a worker takes it, a run whose cancel arrived before it was queued', async () => {
    const h = start();
    const link = h.node();
    expect(await link.side.target.cancelRun('run-early')).toBe('unknown');
    const executor = scriptedExecutor(() => Promise.resolve());
    h.node({ executor });
    await link.side.target.enqueueRun(runSpec('run-early'));
    await waitFor(async () =>
      (await h.events('run-early')).some((event) => event.type === 'cancelled'),
    );
    expect(executor.calls).toHaveLength(0);
  });

  it('requeues a run stopped by shutdown without using an attempt, and another worker resumes it', async () => {
    const h = start({ attempts: 1 });
    const checkpoint: RunCheckpoint = { cursor: { offset: 7 }, nextSeq: 1, assets: 7, bytes: 70 };
    const first = scriptedExecutor(async (_spec, options) => {
      await options.hooks?.onCheckpoint?.(checkpoint);
      return untilAborted(options.signal);
    });
    const draining = h.node({ executor: first });
    await draining.side.target.enqueueRun(runSpec('run-drain'));
    await waitFor(() => draining.worker?.active().length === 1);
    await draining.drain();
    const job = await draining.side.queue.getJob('run-drain');
    expect(job?.attemptsMade).toBe(0);
    const resumed: (RunCheckpoint | undefined)[] = [];
    h.node({
      executor: scriptedExecutor((_spec, options) =>
        Promise.resolve(void resumed.push(options.checkpoint)),
      ),
    });
    await waitFor(() => resumed.length === 1);
    expect(resumed).toEqual([checkpoint]);
    await waitFor(async () =>
      (await h.events('run-drain')).some((event) => event.type === 'succeeded'),
    );
  });

  it('stops a run that exceeds runTimeoutMs with RUN_TIMEOUT and retries it', async () => {
    const h = start({ runTimeoutMs: 1_000, attempts: 2 });
    let calls = 0;
    const executor = scriptedExecutor((_spec, options) =>
      ++calls === 1 ? untilAborted(options.signal) : Promise.resolve(),
    );
    h.node({ executor });
    await h.node().side.target.enqueueRun(runSpec('run-slow'));
    const events = await waitFor(async () => {
      const list = await h.events('run-slow');
      return list.some((event) => event.type === 'succeeded') ? list : undefined;
    });
    expect(events.find((event) => event.type === 'failed')).toMatchObject({
      error: { code: 'RUN_TIMEOUT' },
      willRetry: true,
    });
  });

  it('never runs two runs of one connection at once, across worker processes', async () => {
    const h = start({ concurrency: 4 });
    let running = 0;
    let most = 0;
    const executor = (): ReturnType<typeof scriptedExecutor> =>
      scriptedExecutor(async () => {
        running += 1;
        most = Math.max(most, running);
        await new Promise((resolve) => setTimeout(resolve, 60));
        running -= 1;
      });
    const a = h.node({ executor: executor() });
    h.node({ executor: executor() });
    for (let index = 0; index < 6; index += 1) {
      await a.side.target.enqueueRun(runSpec(`run-cap-${index}`));
    }
    await waitFor(async () => (await a.side.queue.getJobCounts('completed'))['completed'] === 6, {
      timeoutMs: 15_000,
    });
    expect(most).toBe(1);
    // Deferred while the connection was busy, yet each used one attempt: the one that ran.
    const jobs = await Promise.all(
      [0, 1, 2, 3, 4, 5].map((index) => a.side.queue.getJob(`run-cap-${index}`)),
    );
    expect(jobs.map((job) => job?.attemptsMade)).toEqual([1, 1, 1, 1, 1, 1]);
  });

  it('lets a connection run as many runs at once as its policy allows', async () => {
    const h = start({ concurrency: 4 }, 2);
    let running = 0;
    let most = 0;
    const executor = scriptedExecutor(async () => {
      running += 1;
      most = Math.max(most, running);
      await new Promise((resolve) => setTimeout(resolve, 100));
      running -= 1;
    });
    const node = h.node({ executor });
    for (let index = 0; index < 4; index += 1) {
      await node.side.target.enqueueRun(runSpec(`run-two-${index}`));
    }
    await waitFor(
      async () => (await node.side.queue.getJobCounts('completed'))['completed'] === 4,
      {
        timeoutMs: 15_000,
      },
    );
    expect(most).toBe(2);
  });
});

import { Worker } from 'bullmq';
import type { Logger as PinoLogger } from 'pino';
import { coerceError, sleep } from '../plugin-api/index.ts';
import { ActiveRuns } from './active-runs.ts';
import type { ActiveRun } from './active-runs.ts';
import type { CancelChannel } from './cancel.ts';
import type { RunJob } from './jobs.ts';
import { backoffDelay, createRunProcessor } from './processor.ts';
import type { ProcessorDeps } from './processor.ts';
import { QUEUE_NAME } from './queue.ts';
import { LOCK_LOST } from './signals.ts';
import { WeightedSlots } from './slots.ts';
import type { RedisClient } from './redis.ts';
import type { RunOutcome } from '../run/contract.ts';

/** What a worker process runs jobs with. */
export interface RunWorkerOptions extends Omit<ProcessorDeps, 'active' | 'weights'> {
  /** BullMQ duplicates it for its own (blocking) connections and closes those. */
  readonly client: RedisClient;
  readonly prefix: string;
  /** How often active runs' cancel keys are checked, in case a pub/sub message was missed. */
  readonly cancelPollMs?: number;
}

/** The worker of this process. */
export interface RunWorker {
  /** Runs executing here, for /status and heartbeats. */
  active(): ActiveRun[];
  /**
   * Stops taking jobs and waits for the active ones; they stop when the shutdown signal aborts
   * (the caller arms it after the grace period). Idempotent.
   */
  close(): Promise<void>;
}

/**
 * Starts a BullMQ worker on the run queue: concurrency, a lock long enough for CPU-heavy
 * streams (renewed every half of it), stalled-run recovery, our backoff, and cancellation by
 * pub/sub (with a poll as backstop) through BullMQ's per-job AbortSignal.
 */
export function startRunWorker(options: RunWorkerOptions): RunWorker {
  const { settings, logger } = options;
  const active = new ActiveRuns();
  const weights = new WeightedSlots(settings.concurrency);
  const processor = createRunProcessor({ ...options, active, weights });
  const worker = new Worker<RunJob, RunOutcome>(
    QUEUE_NAME,
    (job, token, signal) => processor(job, token, signal),
    {
      connection: options.client,
      prefix: options.prefix,
      concurrency: settings.concurrency,
      lockDuration: settings.lockDurationMs,
      stalledInterval: settings.stalledIntervalMs,
      maxStalledCount: settings.maxStalledCount,
      settings: { backoffStrategy: backoffDelay(settings) },
      autorun: true,
    },
  );
  watchWorker(worker, logger);
  worker.on('lockRenewalFailed', (jobIds) => {
    // The lock may be gone and the run handed on: stop this attempt at a checkpoint (the
    // processor then reports nothing unless it still holds the lock).
    jobIds.forEach((jobId) => worker.cancelJob(jobId, LOCK_LOST));
  });
  const cancelRun = (runId: string): void => {
    const run = active.get(runId);
    if (run !== undefined && worker.cancelJob(run.jobId, 'cancel')) {
      logger.info({ runId }, 'Run cancelled; stopping it');
    }
  };
  const stopPolling = new AbortController();
  options.cancel.subscribe(cancelRun).catch((error: unknown) => {
    logger.warn(
      { err: coerceError(error) },
      'Cancel channel subscription failed; relying on polling',
    );
  });
  void pollCancels(
    options.cancel,
    active,
    cancelRun,
    options.cancelPollMs ?? 5_000,
    stopPolling.signal,
  );
  let closing: Promise<void> | undefined;
  return {
    active: () => active.list(),
    close: () => {
      closing ??= worker.close().finally(() => {
        stopPolling.abort();
      });
      return closing;
    },
  };
}

async function pollCancels(
  cancel: CancelChannel,
  active: ActiveRuns,
  cancelRun: (runId: string) => void,
  intervalMs: number,
  signal: AbortSignal,
): Promise<void> {
  while (!signal.aborted) {
    try {
      await sleep(intervalMs, { signal });
      const requested = await cancel.requested(active.list().map((run) => run.runId));
      requested.forEach(cancelRun);
    } catch {
      // Aborted, or Redis is away: the next tick tries again.
    }
  }
}

const ERROR_LOG_INTERVAL_MS = 30_000;

function watchWorker(worker: Worker<RunJob, RunOutcome>, logger: PinoLogger): void {
  let lastLoggedAt = Number.NEGATIVE_INFINITY;
  let suppressed = 0;
  worker.on('error', (error) => {
    // Connection errors repeat on every reconnect attempt: one line per interval, with a count.
    const now = Date.now();
    if (now - lastLoggedAt < ERROR_LOG_INTERVAL_MS) {
      suppressed += 1;
      return;
    }
    logger.warn({ err: error, suppressed }, 'Queue worker error');
    lastLoggedAt = now;
    suppressed = 0;
  });
  worker.on('stalled', (jobId) => {
    logger.warn({ jobId }, 'Run stalled (its worker stopped renewing the lock); requeued');
  });
  worker.on('lockRenewalFailed', (jobIds) => {
    logger.warn({ jobIds }, 'Run locks could not be renewed');
  });
}

import { DelayedError, UnrecoverableError } from 'bullmq';
import type { Job } from 'bullmq';
import type { Logger as PinoLogger } from 'pino';
import type { Metrics } from '../metrics/metrics.ts';
import { PerimeterError, backoffDelayMs, toPerimeterError } from '../plugin-api/index.ts';
import type { PreparedRun } from '../run/prepare.ts';
import type { RunExecutor, RunSpec } from '../run/types.ts';
import type { ActiveRuns } from './active-runs.ts';
import type { CancelChannel } from './cancel.ts';
import { parseRunJob, specOfJob } from './jobs.ts';
import type { RunJob } from './jobs.ts';
import type { ConnectionLeases } from './lease.ts';
import type { RunLedger } from './ledger.ts';
import type { QueueSettings } from './settings.ts';
import { LOCK_LOST, runSignal } from './signals.ts';
import type { WeightedSlots } from './slots.ts';
import type { EventOutbox, RunEventBody, RunOutcome } from '../run/contract.ts';

/** What the processor of run jobs works with. */
export interface ProcessorDeps {
  readonly executor: RunExecutor;
  /** Checks a run without secrets or network; gives its connector and connection key. */
  readonly prepare: (spec: RunSpec) => PreparedRun;
  /** `policy.connectors.<name>.maxConcurrentRunsPerConnection`. */
  readonly slotsFor: (connector: string) => number;
  readonly outbox: EventOutbox;
  readonly leases: ConnectionLeases;
  readonly ledger: RunLedger;
  readonly cancel: CancelChannel;
  readonly settings: QueueSettings;
  /** Aborted when the process drains: runs stop at a checkpoint and are requeued. */
  readonly shutdown: AbortSignal;
  readonly active: ActiveRuns;
  /** The worker's concurrency, taken by each run's connector weight. */
  readonly weights: WeightedSlots;
  readonly logger: PinoLogger;
  readonly metrics: Metrics;
  /** Whether an extract of the prepared run goes to the review area (`review` settings). */
  readonly reviewFor?: (prepared: PreparedRun) => Promise<boolean>;
  /** Remembers a run held for review, so approving it can mark its connection reviewed. */
  readonly onHeld?: (runId: string, prepared: PreparedRun) => Promise<void>;
  /** Told about each failed attempt (for /status). */
  readonly onFailure?: (runId: string, error: PerimeterError) => void;
}

/** BullMQ's processor signature; the third parameter makes BullMQ create the job's signal. */
export type RunProcessor = (
  job: Job<RunJob>,
  token: string | undefined,
  signal?: AbortSignal,
) => Promise<RunOutcome>;

/**
 * The queue boundary: the one place where errors become retry or give-up. Retryable errors are
 * rethrown (BullMQ backs off, never below a Retry-After); the others fail the job at once
 * (UnrecoverableError). A run stopped by shutdown, and a run whose connection is busy, go back
 * to the queue without using an attempt.
 */
export function createRunProcessor(deps: ProcessorDeps): RunProcessor {
  return async (job, token, bullSignal) => {
    const payload = await parsePayload(job, deps);
    const spec = specOfJob(payload, job.id ?? '', job.timestamp);
    const attempt = job.attemptsMade + 1;
    const report = reporter(deps, spec.runId);
    if ((await deps.cancel.requested([spec.runId])).size > 0) {
      await report({ type: 'cancelled', attempt });
      throw new UnrecoverableError('RUN_CANCELLED: cancelled before it started');
    }
    let prepared: PreparedRun;
    try {
      prepared = deps.prepare(spec);
    } catch (error) {
      return giveUp(toPerimeterError(error), { job, spec, attempt, deps, report });
    }
    const stop = runSignal({
      cancel: bullSignal,
      shutdown: deps.shutdown,
      timeoutMs: deps.settings.runTimeoutMs,
    });
    let releaseSlots: () => void;
    try {
      releaseSlots = await deps.weights.acquire(prepared.connector.weight ?? 1, stop.signal);
    } catch (error) {
      stop.dispose();
      return await settle(toPerimeterError(error), { job, token, spec, attempt, deps, report });
    }
    const lease = await deps.leases.acquire(
      prepared.connectionKey,
      spec.runId,
      deps.slotsFor(prepared.connector.name),
    );
    if (lease === undefined) {
      stop.dispose();
      releaseSlots();
      deps.logger.debug({ runId: spec.runId }, 'Connection busy; run deferred');
      await job.moveToDelayed(Date.now() + jittered(deps.settings.leaseRetryMs), token);
      throw new DelayedError();
    }
    deps.active.add({
      runId: spec.runId,
      jobId: job.id ?? spec.runId,
      connector: prepared.connector.name,
      operation: spec.operation,
      attempt,
      startedAt: Date.now(),
    });
    deps.metrics.activeRuns.inc();
    try {
      if (payload.kind === 'tick' && (await deps.ledger.markSeen(spec.runId))) {
        await report({ type: 'queued' });
      }
      await report({ type: 'started', attempt });
      const review = spec.operation === 'extract' && (await deps.reviewFor?.(prepared)) === true;
      const result = await deps.executor.execute(spec, {
        signal: stop.signal,
        review,
        ...(payload.checkpoint === undefined ? {} : { checkpoint: payload.checkpoint }),
        hooks: {
          onCheckpoint: (checkpoint) => job.updateData({ ...payload, checkpoint }),
          onProgress: (progress) => {
            void report({ type: 'progress', attempt, progress });
          },
        },
      });
      await assertLockHeld(job, token, deps, spec.runId);
      const { runId: _runId, ...outcome } = result;
      if (result.awaitingReview === true) {
        await deps.onHeld?.(spec.runId, prepared);
        await report({ type: 'awaiting_review', attempt, result: outcome });
        return outcome;
      }
      await report({ type: 'succeeded', attempt, result: outcome });
      return outcome;
    } catch (error) {
      if (error instanceof LockLostError) {
        throw error;
      }
      await assertLockHeld(job, token, deps, spec.runId);
      return await settle(toPerimeterError(error), { job, token, spec, attempt, deps, report });
    } finally {
      stop.dispose();
      releaseSlots();
      deps.active.delete(spec.runId);
      deps.metrics.activeRuns.dec();
      await lease.release();
    }
  };
}

/** This attempt no longer holds the run's lock: another attempt owns the run and its outcome. */
class LockLostError extends Error {}

/**
 * Before a final event: is the job's lock still this attempt's? When Redis was paused or away
 * longer than the lock, BullMQ's stalled check may have handed the run to another attempt, and
 * two attempts reporting would give the run two final events. A lost lock drops this outcome.
 */
async function assertLockHeld(
  job: Job<RunJob>,
  token: string | undefined,
  deps: ProcessorDeps,
  runId: string,
): Promise<void> {
  if (token === undefined) {
    return;
  }
  let held: boolean;
  try {
    held = (await job.extendLock(token, deps.settings.lockDurationMs)) === 1;
  } catch {
    // Redis unreachable: no one can take the run over meanwhile; the event waits in the outbox.
    return;
  }
  if (!held) {
    deps.logger.warn(
      { runId },
      'Run lock lost; another attempt owns the run, so this attempt reports nothing',
    );
    throw new LockLostError(`The lock of run ${runId} was lost`);
  }
}

interface Failure {
  readonly job: Job<RunJob>;
  readonly spec: RunSpec;
  readonly attempt: number;
  readonly deps: ProcessorDeps;
  readonly report: (event: RunEventBody) => Promise<void>;
}

async function settle(
  error: PerimeterError,
  failure: Failure & { readonly token: string | undefined },
): Promise<never> {
  const { job, deps, spec } = failure;
  if (error.code === 'RUN_ABORTED' && error.context['reason'] === LOCK_LOST) {
    // The lock was not renewed in time but is still ours: carry on from the checkpoint.
    await job.moveToDelayed(Date.now(), failure.token);
    deps.logger.warn({ runId: spec.runId }, 'Run lock renewal failed; requeued at its checkpoint');
    throw new DelayedError();
  }
  if (error.code === 'RUN_ABORTED' && deps.shutdown.aborted) {
    // Back to the queue at once, without using an attempt; the payload holds the checkpoint.
    await job.moveToDelayed(Date.now(), failure.token);
    deps.logger.info(
      { runId: spec.runId },
      'Run stopped by shutdown; requeued at its last checkpoint',
    );
    throw new DelayedError();
  }
  if (error.code === 'RUN_CANCELLED') {
    await failure.report({ type: 'cancelled', attempt: failure.attempt });
    throw new UnrecoverableError('RUN_CANCELLED: a cancel instruction stopped the run');
  }
  if (error.retryable) {
    const willRetry = job.attemptsMade + 1 < (job.opts.attempts ?? 1);
    await failure.report(failedEvent(error, failure.attempt, willRetry));
    deps.onFailure?.(spec.runId, error);
    throw codeFirst(error);
  }
  return giveUp(error, failure);
}

async function giveUp(error: PerimeterError, failure: Failure): Promise<never> {
  await failure.report(failedEvent(error, failure.attempt, false));
  failure.deps.onFailure?.(failure.spec.runId, error);
  throw new UnrecoverableError(`${error.code}: ${error.message}`);
}

/**
 * The error BullMQ retries: the same, its message led by the code, because BullMQ keeps only
 * the message (the job's failedReason, which `perimeter runs` reads) and give-ups read that way.
 */
function codeFirst(error: PerimeterError): PerimeterError {
  return new PerimeterError(error.code, `${error.code}: ${error.message}`, {
    cause: error,
    retryable: error.retryable,
    context: error.context,
    ...(error.retryAfterMs === undefined ? {} : { retryAfterMs: error.retryAfterMs }),
  });
}

function failedEvent(error: PerimeterError, attempt: number, willRetry: boolean): RunEventBody {
  return {
    type: 'failed',
    attempt,
    error: { code: error.code, message: error.message, retryable: error.retryable },
    willRetry,
  };
}

/** Appends an event; a failure to append is logged and never replaces the run's own outcome. */
function reporter(deps: ProcessorDeps, runId: string): (event: RunEventBody) => Promise<void> {
  return async (event) => {
    try {
      await deps.outbox.append(runId, event);
    } catch (error) {
      deps.logger.warn({ runId, event: event.type, err: error }, 'Run event could not be recorded');
    }
  };
}

/** A payload written by a foreign or older process fails its run (under its job id) at once. */
async function parsePayload(job: Job<RunJob>, deps: ProcessorDeps): Promise<RunJob> {
  try {
    return parseRunJob(job.data, `Job ${job.id ?? '?'}`);
  } catch (error) {
    const failure = toPerimeterError(error);
    if (job.id !== undefined) {
      await reporter(deps, job.id)(failedEvent(failure, job.attemptsMade + 1, false));
    }
    throw new UnrecoverableError(`${failure.code}: the job payload is invalid`);
  }
}

/** ±50 % around `ms`, so deferred runs of one connection do not retry in lockstep. */
export function jittered(ms: number): number {
  return Math.round(ms * (0.5 + Math.random()));
}

/**
 * BullMQ's backoff strategy for our jobs: the toolkit's full-jitter backoff from `backoffMs` up
 * to an hour, never sooner than the Retry-After a source or store gave
 * (PerimeterError.retryAfterMs). `attemptsMade` counts the attempts so far, from 1.
 */
export function backoffDelay(
  settings: QueueSettings,
  random: () => number = Math.random,
): (attemptsMade: number, type: string | undefined, error?: Error) => number {
  const policy = { baseMs: settings.backoffMs, maxMs: MAX_BACKOFF_MS };
  return (attemptsMade, _type, error) => {
    const retryAfterMs = error instanceof PerimeterError ? (error.retryAfterMs ?? 0) : 0;
    // A floor capped by the hour a job may wait, not by the toolkit's 15-minute Retry-After cap:
    // a deferred run holds no worker, so it may honour a longer Retry-After.
    const floorMs = Math.min(retryAfterMs, MAX_BACKOFF_MS);
    return backoffDelayMs(policy, attemptsMade, { floorMs }, random);
  };
}

const MAX_BACKOFF_MS = 3_600_000;

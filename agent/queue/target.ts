import { getNextMillis } from 'bullmq';
import type { JobsOptions } from 'bullmq';
import type { Logger as PinoLogger } from 'pino';
import { PerimeterError } from '../plugin-api/index.ts';
import { parseScheduleSpec } from '../run/spec.ts';
import type { RunSpec } from '../run/types.ts';
import type { CancelChannel } from './cancel.ts';
import { RUN_JOB_NAME, jobIdsOfRun, parseRunJob } from './jobs.ts';
import type { RunLedger } from './ledger.ts';
import type { RunJob } from './jobs.ts';
import type { RunQueue } from './queue.ts';
import { redisOperation } from './wait.ts';
import type { EventOutbox, InstructionTarget, ScheduleSpec } from '../run/contract.ts';

/** What the instruction target writes to. */
export interface InstructionTargetOptions {
  readonly queue: RunQueue;
  readonly jobOptions: JobsOptions;
  readonly ledger: RunLedger;
  readonly outbox: EventOutbox;
  readonly cancel: CancelChannel;
  /** Longest an operation waits for Redis before it fails as REDIS_UNAVAILABLE. */
  readonly timeoutMs?: number;
  /** Most runs waiting (`queue.maxWaitingRuns`); a run beyond it is refused with QUEUE_FULL. */
  readonly maxWaitingRuns?: number;
  readonly logger: PinoLogger;
}

const DEFAULT_TIMEOUT_MS = 10_000;

const WAITING_STATES = new Set(['waiting', 'delayed', 'prioritized', 'wait']);

/**
 * Turns accepted instructions into queue operations. Every method is idempotent: a run id is
 * remembered (SET NX, for `dedupeWindowHours`) beyond the job's own life in the queue, so an
 * instruction redelivered after its run finished and was trimmed still does not run again.
 */
export function createInstructionTarget(options: InstructionTargetOptions): InstructionTarget {
  const { queue, ledger, outbox, logger } = options;
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const enqueue = async (runId: string, payload: RunJob): Promise<'queued' | 'duplicate'> => {
    // The id is marked and the queue counted in one round trip (the count of a duplicate is
    // wasted); a run marked but not queued is forgotten again below, whatever failed.
    const [marked, counted] = await Promise.allSettled([
      ledger.markSeen(runId),
      waitingRuns(queue, options.maxWaitingRuns),
    ]);
    if (marked.status === 'rejected') {
      throw marked.reason;
    }
    if (!marked.value) {
      return 'duplicate';
    }
    let appended: PromiseSettledResult<void>;
    try {
      if (counted.status === 'rejected') {
        throw counted.reason;
      }
      refuseWhenFull(runId, counted.value, options.maxWaitingRuns);
      // One round trip for both. The outbox and the queue share one connection (`main`,
      // setup.ts) and the append is written to it first (BullMQ sends its add script a few
      // microtasks later), so Redis records `queued` before the job exists, hence before any
      // `started` of it.
      const [append, add] = await Promise.allSettled([
        outbox.append(runId, { type: 'queued' }),
        queue.add(RUN_JOB_NAME, payload, { ...options.jobOptions, jobId: runId }),
      ]);
      if (add.status === 'rejected') {
        throw add.reason;
      }
      appended = append;
    } catch (error) {
      // Forget the id again, so the instruction's redelivery (it was not acknowledged) retries.
      await ledger.forget(runId).catch(() => undefined);
      throw error;
    }
    if (appended.status === 'rejected') {
      // The run is queued, so its id stays known (forgotten, a redelivery could queue it again
      // once its job is trimmed); only its `queued` event is lost, as a worker's failed append
      // loses that event and not the run.
      logger.warn({ runId, err: appended.reason }, 'Run event could not be recorded');
    }
    logger.info({ runId }, 'Run queued');
    return 'queued';
  };
  const cancel = async (runId: string): Promise<'cancelled' | 'unknown'> => {
    for (const jobId of jobIdsOfRun(runId)) {
      const job = await queue.getJob(jobId);
      if (job === undefined) {
        continue;
      }
      const state = await job.getState();
      if (WAITING_STATES.has(state) && (await removeWaiting(queue, jobId))) {
        await outbox.append(runId, { type: 'cancelled', attempt: job.attemptsMade });
        logger.info({ runId, state }, 'Queued run cancelled');
        return 'cancelled';
      }
      if (WAITING_STATES.has(state) || state === 'active') {
        // Running (or taken by a worker since we looked): the worker aborts it.
        await options.cancel.request(runId);
        return 'cancelled';
      }
      return 'unknown';
    }
    // Not queued (yet): remember the cancel, so a run instruction arriving late is refused.
    await options.cancel.request(runId);
    return 'unknown';
  };
  return {
    async enqueueRun(spec: RunSpec) {
      const payload = parseRunJob({ kind: 'run', spec }, `Run ${spec.runId}`);
      return redisOperation(enqueue(spec.runId, payload), `queueing run ${spec.runId}`, timeoutMs);
    },
    cancelRun: (runId: string) =>
      redisOperation(cancel(runId), `cancelling run ${runId}`, timeoutMs),
    async upsertSchedule(spec: ScheduleSpec) {
      const schedule = parseScheduleSpec(spec);
      const repeat = repeatOptions(schedule);
      const data = parseRunJob(
        { kind: 'tick', scheduleId: schedule.scheduleId, run: schedule.run },
        `Schedule ${schedule.scheduleId}`,
      );
      const save = queue.upsertJobScheduler(schedule.scheduleId, repeat, {
        name: RUN_JOB_NAME,
        data,
        opts: options.jobOptions,
      });
      await redisOperation(save, `saving schedule ${schedule.scheduleId}`, timeoutMs);
      logger.info({ scheduleId: schedule.scheduleId }, 'Schedule saved');
    },
    async removeSchedule(scheduleId: string) {
      const removed = await redisOperation(
        queue.removeJobScheduler(scheduleId),
        `removing schedule ${scheduleId}`,
        timeoutMs,
      );
      if (removed) {
        logger.info({ scheduleId }, 'Schedule removed');
      }
      return removed ? 'removed' : 'unknown';
    },
  };
}

/** Runs waiting in the queue, when a most is set (`queue.maxWaitingRuns`). */
async function waitingRuns(queue: RunQueue, max: number | undefined): Promise<number> {
  return max === undefined ? 0 : queue.getJobCountByTypes('waiting', 'delayed', 'prioritized');
}

/** Throws QUEUE_FULL when `max` runs already wait, so a flood cannot fill Redis. */
function refuseWhenFull(runId: string, waiting: number, max: number | undefined): void {
  if (max !== undefined && waiting >= max) {
    throw new PerimeterError(
      'QUEUE_FULL',
      `Run ${runId} was refused: ${waiting} runs already wait in the queue, the most \`queue.maxWaitingRuns\` (${max}) allows.`,
      { context: { runId, waiting, maxWaitingRuns: max } },
    );
  }
}

async function removeWaiting(queue: RunQueue, jobId: string): Promise<boolean> {
  try {
    return (await queue.remove(jobId)) === 1;
  } catch {
    // Locked: a worker took it between our look and the removal.
    return false;
  }
}

/**
 * The scheduler's repeat options, checked with BullMQ's own parser (the one that will compute
 * each tick), so a bad cron expression or time zone is refused here as JOB_INVALID rather than
 * failing inside BullMQ.
 */
function repeatOptions(schedule: ScheduleSpec): { pattern?: string; every?: number; tz?: string } {
  const repeat =
    schedule.cron === undefined
      ? { every: (schedule.everySeconds ?? 0) * 1000 }
      : { pattern: schedule.cron, tz: schedule.timezone ?? 'UTC' };
  let next: number | undefined;
  try {
    next = getNextMillis(Date.now(), repeat);
  } catch (error) {
    throw scheduleProblem(schedule, error);
  }
  if (next === undefined) {
    throw scheduleProblem(schedule);
  }
  return repeat;
}

function scheduleProblem(schedule: ScheduleSpec, cause?: unknown): PerimeterError {
  return new PerimeterError(
    'JOB_INVALID',
    `Schedule ${schedule.scheduleId}: the cron expression or time zone does not parse; give 5 or 6 cron fields and an IANA zone`,
    { cause, context: { scheduleId: schedule.scheduleId, problems: ['cron', 'timezone'] } },
  );
}

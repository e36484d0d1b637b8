import type { Job, JobSchedulerJson, JobType } from 'bullmq';
import { ERROR_CODES } from '../plugin-api/index.ts';
import type { ErrorCode } from '../plugin-api/index.ts';
import type { RunOutcome } from '../run/contract.ts';
import type { Operation } from '../run/types.ts';
import { jobIdsOfRun, parseRunJob, specOfJob } from './jobs.ts';
import type { RunJob } from './jobs.ts';
import type { RunQueue } from './queue.ts';
import { STALLED_LIMIT } from './stalled.ts';

/**
 * What an operator sees of runs and schedules in the queue (`perimeter runs`, `perimeter
 * schedules`). Read-only, and only what an operator needs: ids, connector, connection, state,
 * attempts, times, counts and error codes. Never a payload's params values, inline connection
 * settings or checkpoint cursor.
 */

/**
 * A run's state as shown: BullMQ's, with `cancelled` told apart from `failed`, and
 * `held` (an extract whose batches went to the review area; `perimeter review` tells
 * whether it was approved since) from `completed`.
 */
export type RunState =
  'waiting' | 'active' | 'delayed' | 'completed' | 'held' | 'failed' | 'cancelled';

/** The states `--state` accepts. */
export const RUN_STATES: readonly RunState[] = [
  'waiting',
  'active',
  'delayed',
  'completed',
  'held',
  'failed',
  'cancelled',
];

/** One run in the queue. Times are epoch ms. */
export interface RunSummary {
  readonly runId: string;
  readonly jobId: string;
  readonly connector: string | undefined;
  /** The local connection id, or `inline` for a connection given in the instruction. */
  readonly connection: string;
  readonly operation: Operation;
  readonly state: RunState;
  readonly attempts: number;
  readonly maxAttempts: number;
  readonly queuedAt: number;
  readonly startedAt: number | undefined;
  readonly finishedAt: number | undefined;
  /** Committed so far (checkpoint) or, once succeeded, the run's totals. */
  readonly progress: { readonly assets: number; readonly batches: number } | undefined;
  readonly errorCode: ErrorCode | undefined;
  readonly scheduleId: string | undefined;
}

/** A run's detail: the summary plus what `runs show` adds. */
export interface RunDetail extends RunSummary {
  /** The names of the run's params (their values may be selections an operator did not ask to see). */
  readonly paramNames: readonly string[];
  /** The last committed checkpoint, without its cursor. */
  readonly checkpoint:
    { readonly assets: number; readonly batches: number; readonly bytes: number } | undefined;
  /** BullMQ's reason for the last failure: our code and message (never a body). */
  readonly lastError: string | undefined;
  /** Epoch ms a delayed run (retry backoff or a busy connection) is due. */
  readonly dueAt: number | undefined;
  readonly result:
    | {
        readonly assets: number;
        readonly batches: number;
        readonly bytes: number;
        readonly durationMs: number;
      }
    | undefined;
}

/** One job scheduler: a recurring run. */
export interface ScheduleSummary {
  readonly scheduleId: string;
  readonly cron: string | undefined;
  readonly everySeconds: number | undefined;
  readonly timezone: string | undefined;
  /** Epoch ms of the next tick, when BullMQ knows it. */
  readonly nextAt: number | undefined;
  readonly connector: string | undefined;
  readonly connection: string | undefined;
  readonly operation: Operation | undefined;
  readonly origin: 'local' | 'controlPlane' | undefined;
}

/** Maps a local connection id to its connector (the config knows it; the payload does not). */
export type ConnectorOf = (connectionId: string) => string | undefined;

const CODE_PREFIX = /^([A-Z][A-Z_]+):/;

/** BullMQ's job types behind each state; `cancelled` and `held` are told apart after. */
const JOB_TYPES: Readonly<Record<Exclude<RunState, 'cancelled' | 'held'>, readonly JobType[]>> = {
  waiting: ['waiting', 'prioritized'],
  active: ['active'],
  delayed: ['delayed'],
  completed: ['completed'],
  failed: ['failed'],
};

/**
 * Lists runs, newest first: at most `limit` of each asked state (all states by default).
 * `cancelled` runs are failed jobs whose reason is RUN_CANCELLED.
 */
export async function listRuns(
  queue: RunQueue,
  options: {
    readonly states?: readonly RunState[];
    readonly limit: number;
    readonly connectorOf: ConnectorOf;
  },
): Promise<RunSummary[]> {
  const wanted = new Set(options.states ?? RUN_STATES);
  const bullStates = Object.entries(JOB_TYPES).filter(
    ([state]) =>
      wanted.has(state as RunState) ||
      (state === 'failed' && wanted.has('cancelled')) ||
      (state === 'completed' && wanted.has('held')),
  );
  const found = await Promise.all(
    bullStates.map(async ([state, types]) => {
      const jobs = await queue.getJobs([...types], 0, options.limit - 1, false);
      return jobs.map((job) => summariseJob(job, state as RunState, options.connectorOf));
    }),
  );
  // A job that moved state between two reads shows up twice: keep its first sighting.
  const byJob = new Map<string, RunSummary>();
  for (const run of found.flat()) {
    if (run !== undefined && wanted.has(run.state) && !byJob.has(run.jobId)) {
      byJob.set(run.jobId, run);
    }
  }
  return [...byJob.values()].sort((a, b) => b.queuedAt - a.queuedAt).slice(0, options.limit);
}

/** Finds a run by its run id (a schedule tick's too); undefined when the queue has no job of it. */
export async function findRun(
  queue: RunQueue,
  runId: string,
  connectorOf: ConnectorOf,
): Promise<RunDetail | undefined> {
  for (const jobId of jobIdsOfRun(runId)) {
    // The state before the job: BullMQ writes a finished job's reason, result and time in the
    // same script that moves it, so a finished state read first is never paired with the fields
    // the job had before it finished (the other order can show a cancelled run as failed,
    // without its finish time). A job that finishes in between reads as not finished.
    const state = stateOf(await queue.getJobState(jobId));
    const job = state === undefined ? undefined : await queue.getJob(jobId);
    if (job === undefined || state === undefined) {
      continue;
    }
    const summary = summariseJob(job, state, connectorOf);
    if (summary !== undefined) {
      return detailOf(job, summary);
    }
  }
  return undefined;
}

/** Lists the job schedulers, in order of their next tick. */
export async function listSchedules(
  queue: RunQueue,
  connectorOf: ConnectorOf,
): Promise<ScheduleSummary[]> {
  const schedulers = await queue.getJobSchedulers(0, -1, true);
  return schedulers.map((scheduler) => summariseScheduler(scheduler, connectorOf));
}

/** A job as a summary; undefined for a payload that does not parse (a foreign job). */
export function summariseJob(
  job: Job<RunJob>,
  listedAs: RunState,
  connectorOf: ConnectorOf,
): RunSummary | undefined {
  let payload: RunJob;
  try {
    payload = parseRunJob(job.data, `Job ${job.id ?? '?'}`);
  } catch {
    return undefined;
  }
  const jobId = job.id ?? '';
  const spec = specOfJob(payload, jobId, job.timestamp);
  const errorCode = errorCodeOf(job.failedReason);
  const outcome = job.returnvalue as Partial<RunOutcome> | null | undefined;
  const state = shownState(listedAs, errorCode, outcome);
  const totals =
    finished(state) && typeof outcome?.assets === 'number'
      ? { assets: outcome.assets, batches: outcome.batches ?? 0 }
      : undefined;
  const checkpoint = payload.checkpoint;
  return {
    runId: spec.runId,
    jobId,
    connector:
      spec.connection?.connector ??
      (spec.connectionId === undefined ? undefined : connectorOf(spec.connectionId)),
    connection: spec.connectionId ?? 'inline',
    operation: spec.operation,
    state,
    attempts: job.attemptsMade,
    maxAttempts: job.opts.attempts ?? 1,
    queuedAt: job.timestamp,
    startedAt: job.processedOn ?? undefined,
    finishedAt: job.finishedOn ?? undefined,
    progress:
      totals ??
      (checkpoint === undefined
        ? undefined
        : { assets: checkpoint.assets, batches: checkpoint.nextSeq }),
    errorCode,
    scheduleId: payload.kind === 'tick' ? payload.scheduleId : undefined,
  };
}

function shownState(
  listedAs: RunState,
  errorCode: ErrorCode | undefined,
  outcome: Partial<RunOutcome> | null | undefined,
): RunState {
  if (listedAs === 'failed' && errorCode === 'RUN_CANCELLED') {
    return 'cancelled';
  }
  return listedAs === 'completed' && outcome?.awaitingReview === true ? 'held' : listedAs;
}

/** A run that ended with a result: pushed to the catalog, or held in the review area. */
function finished(state: RunState): boolean {
  return state === 'completed' || state === 'held';
}

function detailOf(job: Job<RunJob>, summary: RunSummary): RunDetail {
  const payload = parseRunJob(job.data, `Job ${summary.jobId}`);
  const spec = specOfJob(payload, summary.jobId, job.timestamp);
  const checkpoint = payload.checkpoint;
  const outcome = job.returnvalue as Partial<RunOutcome> | null | undefined;
  return {
    ...summary,
    paramNames: Object.keys(spec.params).sort(),
    checkpoint:
      checkpoint === undefined
        ? undefined
        : { assets: checkpoint.assets, batches: checkpoint.nextSeq, bytes: checkpoint.bytes },
    lastError: job.failedReason ? job.failedReason : undefined,
    dueAt: summary.state === 'delayed' ? job.timestamp + job.delay : undefined,
    result:
      finished(summary.state) && typeof outcome?.assets === 'number'
        ? {
            assets: outcome.assets,
            batches: outcome.batches ?? 0,
            bytes: outcome.bytes ?? 0,
            durationMs: outcome.durationMs ?? 0,
          }
        : undefined,
  };
}

function summariseScheduler(
  scheduler: JobSchedulerJson<RunJob>,
  connectorOf: ConnectorOf,
): ScheduleSummary {
  const data = scheduler.template?.data;
  const run = data?.kind === 'tick' ? data.run : undefined;
  return {
    scheduleId: scheduler.id ?? scheduler.key,
    cron: scheduler.pattern ?? undefined,
    everySeconds: scheduler.every === undefined ? undefined : scheduler.every / 1000,
    timezone: scheduler.tz ?? undefined,
    nextAt: scheduler.next ?? undefined,
    connector:
      run?.connection?.connector ??
      (run?.connectionId === undefined ? undefined : connectorOf(run.connectionId)),
    connection: run === undefined ? undefined : (run.connectionId ?? 'inline'),
    operation: run?.operation,
    origin: run?.origin,
  };
}

/** The job state BullMQ reports, as shown; undefined for states runs never take. */
function stateOf(state: string): RunState | undefined {
  if (state === 'waiting' || state === 'wait' || state === 'prioritized' || state === 'paused') {
    return 'waiting';
  }
  return (['active', 'delayed', 'completed', 'failed'] as const).find((known) => known === state);
}

/**
 * The error code of a failure: the processor fails runs with `CODE: message`; BullMQ fails a
 * run that stalled too often with its own sentence. Other reasons carry no code.
 */
export function errorCodeOf(reason: string | undefined): ErrorCode | undefined {
  if (reason === undefined || reason === '') {
    return undefined;
  }
  if (reason === STALLED_LIMIT) {
    return 'RUN_STALLED';
  }
  const code = CODE_PREFIX.exec(reason)?.[1];
  return code !== undefined && code in ERROR_CODES ? (code as ErrorCode) : undefined;
}

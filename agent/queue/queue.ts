import { Queue } from 'bullmq';
import type { JobsOptions } from 'bullmq';
import type { RedisClient } from './redis.ts';
import type { RunJob } from './jobs.ts';
import type { QueueSettings } from './settings.ts';

/** The BullMQ queue every role shares. */
export const QUEUE_NAME = 'runs';
/** The custom backoff type; the worker's backoff strategy computes its delays. */
export const BACKOFF_TYPE = 'perimeter';

/** The run queue with our job type. */
export type RunQueue = Queue<RunJob>;

/** Job counts by state, for /metrics, /status and heartbeats. */
export interface QueueDepth {
  readonly waiting: number;
  readonly active: number;
  readonly delayed: number;
  readonly failed: number;
  /** Age of the oldest waiting job in ms; 0 when none waits. */
  readonly oldestWaitingMs: number;
}

/**
 * Opens the queue on a shared client (BullMQ does not close a client it was given; the
 * connection factory does).
 */
export function openRunQueue(client: RedisClient, prefix: string): RunQueue {
  return new Queue<RunJob>(QUEUE_NAME, { connection: client, prefix });
}

/**
 * Options of every run job: retries with our backoff, bounded history, and no stack traces in
 * Redis (a trace adds nothing an operator needs and Redis is not a log store).
 */
export function runJobOptions(settings: QueueSettings): JobsOptions {
  return {
    attempts: settings.attempts,
    backoff: { type: BACKOFF_TYPE, delay: settings.backoffMs },
    removeOnComplete: { count: settings.keepCompleted },
    removeOnFail: { count: settings.keepFailed },
    stackTraceLimit: 0,
  };
}

/**
 * Counts jobs by state and the age of the oldest waiting one. Redis commands wait across
 * reconnects: a caller that must not hang on an outage bounds it (`waitAtMost`).
 */
export async function queueDepth(queue: RunQueue): Promise<QueueDepth> {
  const counts = await queue.getJobCounts('waiting', 'active', 'delayed', 'failed', 'prioritized');
  const [oldest] = await queue.getJobs(['waiting'], 0, 0, true);
  const count = (state: string): number => counts[state] ?? 0;
  return {
    waiting: count('waiting') + count('prioritized'),
    active: count('active'),
    delayed: count('delayed'),
    failed: count('failed'),
    oldestWaitingMs: oldest === undefined ? 0 : Math.max(0, Date.now() - oldest.timestamp),
  };
}

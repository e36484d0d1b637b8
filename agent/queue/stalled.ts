import { QueueEvents } from 'bullmq';
import type { Logger as PinoLogger } from 'pino';
import { ERROR_CODES } from '../plugin-api/index.ts';
import { parseRunJob, specOfJob } from './jobs.ts';
import { QUEUE_NAME } from './queue.ts';
import type { RunQueue } from './queue.ts';
import type { RedisClient } from './redis.ts';
import type { EventOutbox } from '../run/contract.ts';

/** BullMQ's reason when a run's worker died more than `maxStalledCount` times. */
export const STALLED_LIMIT = 'job stalled more than allowable limit';

/** The watcher's handle. */
export interface StalledWatcher {
  close(): Promise<void>;
}

/**
 * Reports runs that BullMQ failed by itself: a run recovered from dead workers more than
 * `queue.maxStalledCount` times is failed inside Redis, where no processor sees it, so without
 * this the control plane would never hear how it ended. Runs in the link process (one per agent)
 * from BullMQ's own event stream.
 */
export function watchStalledFailures(options: {
  readonly client: RedisClient;
  readonly prefix: string;
  readonly queue: RunQueue;
  readonly outbox: EventOutbox;
  readonly logger: PinoLogger;
}): StalledWatcher {
  const { queue, outbox, logger } = options;
  const events = new QueueEvents(QUEUE_NAME, {
    connection: options.client,
    prefix: options.prefix,
  });
  events.on('error', () => {
    // Connection errors: the connection factory's clients log outages already.
  });
  events.on('failed', ({ jobId, failedReason }) => {
    if (failedReason !== STALLED_LIMIT) {
      return;
    }
    report(queue, outbox, jobId).catch((error: unknown) => {
      logger.warn({ jobId, err: error }, 'Stalled run failure could not be reported');
    });
  });
  let closing: Promise<void> | undefined;
  return {
    close: () => {
      closing ??= events.close();
      return closing;
    },
  };
}

async function report(queue: RunQueue, outbox: EventOutbox, jobId: string): Promise<void> {
  const job = await queue.getJob(jobId);
  if (job === undefined) {
    return;
  }
  const spec = specOfJob(parseRunJob(job.data, `Job ${jobId}`), jobId, job.timestamp);
  await outbox.append(spec.runId, {
    type: 'failed',
    attempt: job.attemptsMade + 1,
    error: { code: 'RUN_STALLED', message: ERROR_CODES.RUN_STALLED.action, retryable: false },
    willRetry: false,
  });
}

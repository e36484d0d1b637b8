import type { Logger as PinoLogger } from 'pino';
import type { AgentConfig } from '../config/schema.ts';
import type { RunQueue } from '../queue/queue.ts';
import type { InstructionTarget } from '../run/contract.ts';
import { LOCAL_SCHEDULE_PREFIX } from '../run/spec.ts';

type LocalJob = AgentConfig['jobs'][number];

/** What standalone mode does at start: the config's jobs are the instructions. */
export interface LocalJobsOutcome {
  readonly queued: number;
  readonly duplicates: number;
  readonly schedules: number;
  readonly removedSchedules: number;
}

/**
 * Applies the config's jobs, as the link would apply instructions: each one-off job is queued
 * once per agent start (run id `<jobId>.<bootId>`, so replicas started together, or a restart
 * of the same boot, do not run it twice), each scheduled job becomes a job scheduler (upserted),
 * and schedulers that came from config jobs no longer in the config are removed.
 */
export async function applyLocalJobs(options: {
  readonly jobs: readonly LocalJob[];
  readonly target: InstructionTarget;
  readonly queue: RunQueue;
  readonly bootId: string;
  readonly logger: PinoLogger;
}): Promise<LocalJobsOutcome> {
  const { jobs, target, bootId } = options;
  let queued = 0;
  let duplicates = 0;
  const wanted = new Set<string>();
  for (const job of jobs) {
    const run = {
      operation: job.operation,
      connectionId: job.connection,
      params: job.params,
      origin: 'local' as const,
    };
    if (job.schedule === undefined) {
      const outcome = await target.enqueueRun({ ...run, runId: `${job.id}.${bootId}` });
      queued += outcome === 'queued' ? 1 : 0;
      duplicates += outcome === 'duplicate' ? 1 : 0;
      continue;
    }
    const scheduleId = `${LOCAL_SCHEDULE_PREFIX}${job.id}`;
    wanted.add(scheduleId);
    await target.upsertSchedule({ scheduleId, ...job.schedule, run });
  }
  const removedSchedules = await removeStaleSchedules(options.queue, target, wanted);
  const outcome = { queued, duplicates, schedules: wanted.size, removedSchedules };
  options.logger.info(outcome, 'Standalone jobs applied');
  return outcome;
}

async function removeStaleSchedules(
  queue: RunQueue,
  target: InstructionTarget,
  wanted: ReadonlySet<string>,
): Promise<number> {
  let removed = 0;
  for (const scheduler of await queue.getJobSchedulers()) {
    const id = scheduler.id ?? scheduler.key;
    const data = scheduler.template?.data;
    const local =
      data?.kind === 'tick' && data.run.origin === 'local' && id.startsWith(LOCAL_SCHEDULE_PREFIX);
    if (local && !wanted.has(id)) {
      removed += (await target.removeSchedule(id)) === 'removed' ? 1 : 0;
    }
  }
  return removed;
}

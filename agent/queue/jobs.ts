import { z } from 'zod';
import { problemsError, problemsFromZod } from '../run/problems.ts';
import { JsonValueSchema, nestsDeeperThan } from '../plugin-api/index.ts';
import { RunSpecSchema, ScheduleFieldsSchema } from '../run/spec.ts';
import { TallySnapshotSchema } from '../run/tally.ts';
import type { RunCheckpoint, RunSpec } from '../run/types.ts';

/**
 * The job catalog of the run queue: one job name and its payload schema. Payloads are
 * validated when a job is added and again when a worker takes it, so a payload written by an
 * older or foreign process fails as JOB_INVALID instead of somewhere inside a run. A payload
 * holds references only: connection ids or inline settings whose credentials are references.
 * Its run and schedule parts are the run model's own schemas (agent/run/spec.ts).
 */
export const RUN_JOB_NAME = 'run';

/** A {@link RunCheckpoint} of the sink, carried by the job so a retry resumes there. */
export const RunCheckpointSchema: z.ZodType<RunCheckpoint> = z.strictObject({
  cursor: JsonValueSchema,
  nextSeq: z.int().min(0),
  assets: z.int().min(0),
  bytes: z.int().min(0),
  tally: TallySnapshotSchema.optional(),
});

/** The payload of a `run` job: a one-off run, or one tick of a schedule. */
export const RunJobSchema = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('run'),
    spec: RunSpecSchema,
    checkpoint: RunCheckpointSchema.optional(),
  }),
  ScheduleFieldsSchema.pick({ scheduleId: true, run: true }).extend({
    kind: z.literal('tick'),
    checkpoint: RunCheckpointSchema.optional(),
  }),
]);

/** A validated job payload. */
export type RunJob = z.output<typeof RunJobSchema>;

/** Deepest nesting of a payload (params and cursors included): the schemas recurse. */
const MAX_JOB_NESTING = 64;

/** Validates a payload; problems throw JOB_INVALID naming each key path (never its value). */
export function parseRunJob(data: unknown, what: string): RunJob {
  if (nestsDeeperThan(data, MAX_JOB_NESTING)) {
    const message = `nests deeper than ${MAX_JOB_NESTING} levels`;
    throw problemsError('JOB_INVALID', what, [{ path: '(root)', message }]);
  }
  const parsed = RunJobSchema.safeParse(data);
  if (!parsed.success) {
    throw problemsError('JOB_INVALID', what, problemsFromZod(parsed.error));
  }
  return parsed.data;
}

/** The run id of a schedule tick: `<scheduleId>.<tick time in ms>`, stable across retries. */
export function tickRunId(scheduleId: string, tickMs: number): string {
  return `${scheduleId}.${tickMs}`;
}

/**
 * BullMQ names the job of a scheduler tick `repeat:<schedulerId>:<tickMs>`; our run id of it
 * is {@link tickRunId}. Returns the tick time, or undefined for any other job id.
 */
export function tickOfJobId(jobId: string, scheduleId: string): number | undefined {
  const prefix = `repeat:${scheduleId}:`;
  if (!jobId.startsWith(prefix)) {
    return undefined;
  }
  const tick = Number(jobId.slice(prefix.length));
  return Number.isSafeInteger(tick) ? tick : undefined;
}

/** The run a job stands for: its spec, or for a schedule tick the template with the tick's run id. */
export function specOfJob(payload: RunJob, jobId: string, timestamp: number): RunSpec {
  if (payload.kind === 'run') {
    return payload.spec;
  }
  const tick = tickOfJobId(jobId, payload.scheduleId) ?? timestamp;
  return { ...payload.run, runId: tickRunId(payload.scheduleId, tick) };
}

/** The job ids a run id may have: its own, or the scheduler job id of a tick run id. */
export function jobIdsOfRun(runId: string): string[] {
  const tick = /^(.+)\.(\d+)$/.exec(runId);
  return tick === null ? [runId] : [runId, `repeat:${tick[1] ?? ''}:${tick[2] ?? ''}`];
}

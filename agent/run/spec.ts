import { z } from 'zod';
import { JsonValueSchema } from '../plugin-api/index.ts';
import { problemsError, problemsFromZod } from './problems.ts';
import { ID_PATTERN } from './settings.ts';

/**
 * The shape of a run and of a schedule, defined once. Every form a run takes derives from these
 * schemas and changes only its wire form: the control-plane instruction (`agent/link`), the job
 * file and the config's `jobs` (`agent/config`), the queue payload (`agent/queue`). So a schedule
 * or a run id one of them accepts, all of them accept.
 */

/** Run ids: also BullMQ job ids, which may not contain `:` or be plain integers. */
export const RUN_ID_PATTERN = /^(?!\d+$)[A-Za-z0-9._-]{1,128}$/;
/** Schedule ids are shorter: tick run ids are `<scheduleId>.<13-digit ms>`. */
export const SCHEDULE_ID_MAX_CHARS = 100;
/** Schedules made from config jobs carry this prefix; control-plane ones never do. */
export const LOCAL_SCHEDULE_PREFIX = 'local.';
/** Fewest seconds between two runs of an every-N schedule: a source is not polled faster. */
export const EVERY_SECONDS_MIN = 60;
/** Most seconds between two runs of an every-N schedule: one year. */
export const EVERY_SECONDS_MAX = 31_536_000;
/** Connector names, as `defineConnector` declares them. */
const CONNECTOR_NAME = /^[a-z][a-z0-9-]{0,62}$/;
const CRON_FIELDS = /^\S+(?: +\S+){4,5}$/;

export const RunIdSchema = z
  .string()
  .regex(RUN_ID_PATTERN, 'must be 1-128 of A-Z a-z 0-9 . _ - and not only digits');

export const ScheduleIdSchema = z
  .string()
  .max(SCHEDULE_ID_MAX_CHARS, 'must be at most 100 characters (tick run ids append a timestamp)')
  .regex(RUN_ID_PATTERN, 'must be 1-100 of A-Z a-z 0-9 . _ - and not only digits');

/** A config job's id: a scheduled job's schedule id is `local.<id>`, so it has room for that. */
export const LocalJobIdSchema = ScheduleIdSchema.max(
  SCHEDULE_ID_MAX_CHARS - LOCAL_SCHEDULE_PREFIX.length,
  'must be at most 94 characters (its schedule id is local.<id>)',
);

export const ConnectionIdSchema = z
  .string()
  .regex(ID_PATTERN, 'must be the id of a connection defined locally');

export const ConnectorNameSchema = z
  .string()
  .regex(CONNECTOR_NAME, 'must be a connector name such as cyera');

export const OperationSchema = z.enum(['extract', 'discover', 'check']);

export const ParamsSchema = z.record(z.string(), JsonValueSchema);

/** A connection given inline: connector name and settings, credentials as secret references. */
export const InlineConnectionSchema = z.strictObject({
  connector: ConnectorNameSchema,
  /** Settings as the connector's configSchema expects them; `credentials` maps names to references. */
  config: ParamsSchema,
});

/**
 * A run's fields, before the connection rule ({@link refineRun}). Wire forms derive from this
 * with `.pick`, `.omit` and `.extend`, then apply the rule.
 */
export const RunFieldsSchema = z.strictObject({
  /** Unique id; also the queue job id. */
  runId: RunIdSchema,
  operation: OperationSchema,
  /** A connection defined in the local config (exactly one of connectionId or connection). */
  connectionId: ConnectionIdSchema.optional(),
  connection: InlineConnectionSchema.optional(),
  params: ParamsSchema,
  /**
   * Where the run came from. Inline connections from the control plane may only use the secret
   * references the local policy lists for their connector (`policy.connectors.<name>.inlineSecretRefs`).
   */
  origin: z.enum(['local', 'controlPlane']),
});

/** Exactly one of connectionId and connection, reported on `connectionId`. */
export function refineRun<T extends z.ZodType<{ connectionId?: unknown; connection?: unknown }>>(
  schema: T,
): T {
  return schema.superRefine((run, ctx) => {
    if ((run.connectionId === undefined) === (run.connection === undefined)) {
      ctx.addIssue({
        code: 'custom',
        path: ['connectionId'],
        message: 'give exactly one of connectionId or connection',
      });
    }
  });
}

export const CronSchema = z
  .string()
  .max(256, 'must be at most 256 characters')
  .regex(CRON_FIELDS, 'must be a cron expression of 5 or 6 fields');

export const EverySecondsSchema = z
  .int('must be a whole number of seconds')
  .min(EVERY_SECONDS_MIN, 'must be at least 60 (one minute)')
  .max(EVERY_SECONDS_MAX, 'must be at most 31536000 (one year)');

export const TimeZoneSchema = z
  .string()
  .max(64, 'must be at most 64 characters')
  .refine(isTimeZone, 'must be an IANA time zone such as Europe/Paris');

/** When a schedule recurs: exactly one of cron and everySeconds ({@link refineRecurrence}). */
export const RecurrenceFieldsSchema = z.strictObject({
  cron: CronSchema.optional().describe(
    'Cron expression of 5 or 6 fields (seconds first). Exactly one of cron and everySeconds.',
  ),
  everySeconds: EverySecondsSchema.optional().describe(
    'Fixed interval in seconds, from 60 (one minute) to 31536000 (one year).',
  ),
  timezone: TimeZoneSchema.optional().describe(
    'IANA time zone of the cron expression. Default: UTC.',
  ),
});

/** Exactly one of cron and everySeconds, reported on `cron`. */
export function refineRecurrence<
  T extends z.ZodType<{ cron?: string | undefined; everySeconds?: number | undefined }>,
>(schema: T): T {
  return schema.superRefine((recurrence, ctx) => {
    if ((recurrence.cron === undefined) === (recurrence.everySeconds === undefined)) {
      ctx.addIssue({
        code: 'custom',
        path: ['cron'],
        message: 'give exactly one of cron or everySeconds',
      });
    }
  });
}

/** A schedule's fields, before the recurrence and run rules. */
export const ScheduleFieldsSchema = RecurrenceFieldsSchema.extend({
  scheduleId: ScheduleIdSchema,
  /** The run each tick starts; run ids are derived from the schedule id and the tick time. */
  run: refineRun(RunFieldsSchema.omit({ runId: true })),
});

/**
 * A run as it travels: from a job file, a config job or a control-plane instruction, through
 * the queue (the BullMQ job payload) to the executor. References only, never values.
 */
export const RunSpecSchema = refineRun(RunFieldsSchema);

/** A recurring run (from a `schedule` instruction or a config job). */
export const ScheduleSpecSchema = refineRecurrence(ScheduleFieldsSchema);

export type Operation = z.output<typeof OperationSchema>;
export type InlineConnection = Readonly<z.output<typeof InlineConnectionSchema>>;
export type RunSpec = Readonly<z.output<typeof RunSpecSchema>>;
/** What a schedule starts on each tick: a run without its id. */
export type ScheduledRun = Omit<RunSpec, 'runId'>;
export type ScheduleSpec = Readonly<z.output<typeof ScheduleSpecSchema>>;

/**
 * Validates a schedule handed to the queue (the instruction and config forms were checked on
 * the way in; this is the one rule they share). Problems throw JOB_INVALID naming each key path.
 */
export function parseScheduleSpec(value: unknown): ScheduleSpec {
  const parsed = ScheduleSpecSchema.safeParse(value);
  if (!parsed.success) {
    const id = (value as { scheduleId?: unknown } | null)?.scheduleId;
    const what = ScheduleIdSchema.safeParse(id).success ? `Schedule ${String(id)}` : 'A schedule';
    throw problemsError('JOB_INVALID', what, problemsFromZod(parsed.error));
  }
  return parsed.data;
}

function isTimeZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

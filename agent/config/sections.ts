import { z } from 'zod';
import { ID_PATTERN } from '../run/settings.ts';
import {
  ConnectionIdSchema,
  LocalJobIdSchema,
  OperationSchema,
  ParamsSchema,
  RecurrenceFieldsSchema,
  RunFieldsSchema,
  refineRecurrence,
} from '../run/spec.ts';

export const AgentSettingsSchema = z
  .strictObject({
    id: z
      .string()
      .regex(ID_PATTERN, 'must be lower-case letters, digits and dashes, starting with a letter')
      .optional()
      .describe('Agent id reported to the control plane. Default: perimeter-<hostname>.'),
    logLevel: z
      .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
      .default('info')
      .describe('Log level of the JSON logs on stdout (trace never in production).'),
  })
  .describe('The agent itself.');

/**
 * A job of standalone mode: the run model's run (agent/run/spec.ts) in config form. A job names
 * a local connection; its run ids derive from its id (`<id>.<bootId>` for a one-off run, ticks of
 * the schedule `local.<id>`), so the id leaves room for those.
 */
export const LocalJobSchema = RunFieldsSchema.omit({
  runId: true,
  connectionId: true,
  connection: true,
  origin: true,
})
  .extend({
    id: LocalJobIdSchema.describe(
      'Job id: 1-94 of A-Z a-z 0-9 . _ - and not only digits; runs get ids derived from it.',
    ),
    connection: ConnectionIdSchema.describe('Id of a connection under `connections`.'),
    operation: OperationSchema.default('extract').describe('extract, discover or check.'),
    params: ParamsSchema.default({}).describe("The operation's params (e.g. a selection)."),
    schedule: refineRecurrence(RecurrenceFieldsSchema)
      .optional()
      .describe('Recurrence: exactly one of cron or everySeconds; absent means run once at start.'),
  })
  .describe('A job of standalone mode (no control plane).');

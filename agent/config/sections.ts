import { z } from 'zod';
import { JsonValueSchema } from '../plugin-api/index.ts';
import { ID_PATTERN, OperationSchema, RUN_ID_PATTERN, ScheduleSchema } from '../run/settings.ts';

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

export const LocalJobSchema = z
  .strictObject({
    id: z
      .string()
      .regex(RUN_ID_PATTERN, 'must be 1-128 of A-Z a-z 0-9 . _ - and not only digits')
      .describe('Job id; runs get ids derived from it.'),
    connection: z.string().min(1).describe('Id of a connection under `connections`.'),
    operation: OperationSchema.default('extract').describe('extract, discover or check.'),
    params: z
      .record(z.string(), JsonValueSchema)
      .default({})
      .describe("The operation's params (e.g. a selection)."),
    schedule: ScheduleSchema.optional().describe('Recurrence; absent means run once at start.'),
  })
  .describe('A job of standalone mode (no control plane).');

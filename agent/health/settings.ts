import { z } from 'zod';

/** The `health` section: the operators' port (/livez, /readyz, /metrics, /status). */
export const HealthSettingsSchema = z
  .strictObject({
    port: z
      .int()
      .min(0)
      .max(65_535)
      .default(8080)
      .describe('Port of /livez, /readyz, /metrics and /status (0 picks a free one).'),
    host: z.string().min(1).default('0.0.0.0').describe('Address the health server listens on.'),
    statusErrorsKept: z
      .int()
      .min(0)
      .max(1_000)
      .default(20)
      .describe('Last run errors (code and time) /status lists.'),
    probeIntervalMs: z
      .int()
      .min(100)
      .max(3_600_000)
      .default(30_000)
      .describe(
        'How often the catalog and each secret store are probed for /readyz; requests read the cached result.',
      ),
  })
  .describe('The health server.');

/** The parsed `health` section. */
export type HealthSettings = z.output<typeof HealthSettingsSchema>;

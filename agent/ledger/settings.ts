import { z } from 'zod';

/** The `ledger` section: how long the outbound ledger is kept and where it is mirrored. */
export const LedgerSettingsSchema = z
  .strictObject({
    retentionDays: z
      .number()
      .int()
      .min(1)
      .max(3650)
      .default(90)
      .describe(
        'Days outbound-ledger entries are kept in Redis; older ones are dropped and the chain stays verifiable from its anchor.',
      ),
    file: z
      .string()
      .min(1)
      .optional()
      .describe(
        'File every ledger entry is also appended to (JSON lines, for a log shipper); the only ledger of `perimeter run`.',
      ),
  })
  .describe(
    'The outbound ledger: a hash-chained record of every request that carries metadata out.',
  );

export type LedgerSettings = z.output<typeof LedgerSettingsSchema>;

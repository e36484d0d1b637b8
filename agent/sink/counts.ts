import { z } from 'zod';
import { SKIP_REASONS } from '../plugin-api/index.ts';
import type { SkipReason } from '../plugin-api/index.ts';
import type { KindCounts, Mismatch, RunCounts, SkippedObject, TallySnapshot } from './types.ts';

/**
 * The schemas of a run's counts where they are read back from outside the run: a checkpoint in
 * the queue job (`TallySnapshotSchema`) and a manifest in the review area (`RunCountsSchema`), a
 * folder an operator can edit before the counts go to the catalog.
 */

/** Skipped objects listed by id in a run's result; the rest are only counted. */
export const MAX_LISTED_SKIPS = 100;
/** Longest kind, id and message kept: a result travels to the control plane and the catalog. */
export const MAX_KIND_CHARS = 128;
export const MAX_ID_CHARS = 256;
export const MAX_MESSAGE_CHARS = 300;

const ReasonSchema = z.enum(SKIP_REASONS as [SkipReason, ...SkipReason[]]);
const Count = z.int().min(0);
const Kind = z.string().min(1).max(MAX_KIND_CHARS);

const KindCountsSchema: z.ZodType<KindCounts> = z.strictObject({
  reported: Count.optional(),
  extracted: Count,
  skipped: Count,
  skippedByReason: z.partialRecord(ReasonSchema, Count).optional(),
});

const SkippedObjectSchema: z.ZodType<SkippedObject> = z.strictObject({
  kind: Kind,
  id: z.string().max(MAX_ID_CHARS),
  reason: ReasonSchema,
  message: z.string().max(MAX_MESSAGE_CHARS),
});

const MismatchSchema: z.ZodType<Mismatch> = z.strictObject({
  kind: Kind,
  reported: Count,
  extracted: Count,
  skipped: Count,
});

/** A {@link TallySnapshot} as a checkpoint carries it (in the queue job's payload). */
export const TallySnapshotSchema: z.ZodType<TallySnapshot> = z.strictObject({
  kinds: z.record(Kind, KindCountsSchema),
  skippedTotal: Count,
  skipped: z.array(SkippedObjectSchema).max(MAX_LISTED_SKIPS),
});

/** {@link RunCounts} as an extract's manifest carries them. */
export const RunCountsSchema: z.ZodType<RunCounts> = z.strictObject({
  kinds: z.record(Kind, KindCountsSchema),
  partial: z.boolean(),
  skipped: z.strictObject({
    total: Count,
    truncated: z.boolean(),
    items: z.array(SkippedObjectSchema).max(MAX_LISTED_SKIPS),
  }),
  reconciled: z.boolean(),
  mismatches: z.array(MismatchSchema),
});

import { createHash } from 'node:crypto';
import { readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { PerimeterError } from '../plugin-api/index.ts';
import { RunCountsSchema } from './counts.ts';
import { SAFE_RUN_ID } from './directory-sink.ts';
import type { ManifestFile } from './directory-sink.ts';
import type { RunCounts } from './types.ts';

/** A batch released after review: its NDJSON exactly as shown. */
export interface ReviewedBatch {
  readonly seq: number;
  readonly assets: number;
  readonly bytes: number;
  readonly ndjson: Buffer;
}

/** A run held in the review area (the directory-sink layout: batch files and manifest.json). */
export interface ReviewRun {
  readonly runId: string;
  readonly connector: string;
  readonly assets: number;
  readonly batches: number;
  readonly bytes: number;
  readonly files: readonly ManifestFile[];
  /** The extract's counts (per kind, partial, skipped), as its manifest recorded them. */
  readonly counts: RunCounts | undefined;
  readonly decision: ReviewDecision | undefined;
}

/** What an operator decided, kept in `decision.json` beside the files. */
export interface ReviewDecision {
  readonly decision: 'approved' | 'rejected';
  readonly at: string;
}

const ManifestSchema = z.object({
  runId: z.string(),
  connector: z.string(),
  complete: z.literal(true),
  assets: z.number().int().nonnegative(),
  batches: z.number().int().nonnegative(),
  bytes: z.number().int().nonnegative(),
  files: z.array(
    z.object({
      seq: z.number().int().nonnegative(),
      file: z.string().regex(/^batch-\d{6}\.ndjson$/),
      assets: z.number().int().nonnegative(),
      bytes: z.number().int().nonnegative(),
      sha256: z.string().regex(/^[0-9a-f]{64}$/),
    }),
  ),
  // The extract's counts: checked as a whole with RunCountsSchema (a run whose counts do not
  // read is not offered for review, as one whose files do not).
  kinds: z.unknown().optional(),
  partial: z.unknown().optional(),
  skipped: z.unknown().optional(),
  reconciled: z.unknown().optional(),
  mismatches: z.unknown().optional(),
});

const DecisionSchema = z.object({
  decision: z.enum(['approved', 'rejected']),
  at: z.string(),
});

/** The complete runs of a review area, oldest run id first. */
export async function listReviews(dir: string): Promise<ReviewRun[]> {
  const names = await readdir(dir).catch(() => [] as string[]);
  const runs: ReviewRun[] = [];
  for (const name of names.filter((n) => SAFE_RUN_ID.test(n)).sort()) {
    const run = await readManifestOrUndefined(dir, name);
    if (run !== undefined) {
      runs.push(run);
    }
  }
  return runs;
}

/** One run of the review area; REVIEW_NOT_FOUND when it is not there or not complete. */
export async function readReview(dir: string, runId: string): Promise<ReviewRun> {
  const run = SAFE_RUN_ID.test(runId) ? await readManifestOrUndefined(dir, runId) : undefined;
  if (run === undefined) {
    throw new PerimeterError(
      'REVIEW_NOT_FOUND',
      `No complete run ${runId} is waiting in the review area ${dir}.`,
      { context: { runId, dir } },
    );
  }
  return run;
}

/** Reads one batch file, refusing it when its bytes are not those the manifest shows. */
export async function readReviewedBatch(
  dir: string,
  run: ReviewRun,
  file: ManifestFile,
): Promise<ReviewedBatch> {
  const ndjson = await readFile(join(dir, run.runId, file.file)).catch(() => undefined);
  if (ndjson === undefined || createHash('sha256').update(ndjson).digest('hex') !== file.sha256) {
    throw new PerimeterError(
      'REVIEW_ALTERED',
      `Batch ${file.seq} of run ${run.runId} is missing or no longer matches the digest shown for it; nothing is pushed.`,
      { context: { runId: run.runId, seq: file.seq } },
    );
  }
  return { seq: file.seq, assets: file.assets, bytes: file.bytes, ndjson };
}

/**
 * Releases a run: checks every file against the digests shown, hands them in order to `push`
 * (the catalog, with the same idempotency keys a direct push uses), then records the approval.
 */
export async function approveReview(
  dir: string,
  runId: string,
  push: (run: ReviewRun, batches: readonly ReviewedBatch[]) => Promise<void>,
  now: () => Date = () => new Date(),
): Promise<ReviewRun> {
  const run = undecided(await readReview(dir, runId));
  const batches: ReviewedBatch[] = [];
  for (const file of run.files) {
    batches.push(await readReviewedBatch(dir, run, file));
  }
  await push(run, batches);
  await writeDecision(dir, runId, { decision: 'approved', at: now().toISOString() });
  return run;
}

/** Drops a run: deletes its batch files and records the rejection; nothing is pushed. */
export async function rejectReview(
  dir: string,
  runId: string,
  now: () => Date = () => new Date(),
): Promise<ReviewRun> {
  const run = undecided(await readReview(dir, runId));
  await Promise.all(run.files.map((file) => rm(join(dir, runId, file.file), { force: true })));
  await writeDecision(dir, runId, { decision: 'rejected', at: now().toISOString() });
  return run;
}

function undecided(run: ReviewRun): ReviewRun {
  if (run.decision !== undefined) {
    throw new PerimeterError(
      'REVIEW_DECIDED',
      `Run ${run.runId} was already ${run.decision.decision} at ${run.decision.at}.`,
      { context: { runId: run.runId } },
    );
  }
  return run;
}

/**
 * Records a decision. A write that fails (a full disk) leaves no partial `decision.json` behind,
 * so the run stays undecided and the operator can decide again once the cause is fixed.
 */
async function writeDecision(dir: string, runId: string, decision: ReviewDecision): Promise<void> {
  const path = join(dir, runId, 'decision.json');
  try {
    await writeFile(path, `${JSON.stringify(decision)}\n`, { flag: 'wx' });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'unknown';
    if (code !== 'EEXIST') {
      await rm(path, { force: true }).catch(() => undefined);
    }
    throw new PerimeterError(
      'OUTPUT_FAILED',
      `Could not record the ${decision.decision} decision of run ${runId} in ${path} (${code}); the run is still undecided: fix the cause and decide again (a repeated approval pushes the same batches under the same keys).`,
      { cause: error, context: { runId, path, code } },
    );
  }
}

async function readManifestOrUndefined(dir: string, runId: string): Promise<ReviewRun | undefined> {
  const manifest = await readJson(join(dir, runId, 'manifest.json'), ManifestSchema);
  if (manifest?.runId !== runId) {
    return undefined;
  }
  const decision = await readJson(join(dir, runId, 'decision.json'), DecisionSchema);
  const { kinds, partial, skipped, reconciled, mismatches, ...rest } = manifest;
  const counts =
    kinds === undefined
      ? undefined
      : RunCountsSchema.safeParse({ kinds, partial, skipped, reconciled, mismatches });
  if (counts?.success === false) {
    return undefined;
  }
  return { ...rest, counts: counts?.data, decision };
}

async function readJson<T>(path: string, schema: z.ZodType<T>): Promise<T | undefined> {
  try {
    const parsed = schema.safeParse(JSON.parse(await readFile(path, 'utf8')));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

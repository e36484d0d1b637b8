/**
 * Where batches end. These rules are the heart of the sink's idempotency, so they are pure
 * functions of the pending batch and nothing else.
 *
 * Why: a batch is posted with `Idempotency-Key: {runId}:{seq}` and the catalog drops a second
 * batch with a key it already stored. A resumed attempt restarts from the last *committed*
 * checkpoint with `nextSeq` from that checkpoint, and the connector replays the same
 * asset/checkpoint stream from its cursor. If boundaries depended on anything but that stream
 * (a timer, the catalog's speed, memory pressure), the resumed attempt could put different assets
 * under a key the catalog already holds, and the catalog would silently drop them. So:
 *
 * - a batch ends before the line that would exceed the count or byte limit;
 * - a checkpoint ends the pending batch only when it is big enough to be worth a batch (at least
 *   `checkpointMinAssets` assets, or any assets past half of `batchMaxBytes`); a smaller pending
 *   batch makes the checkpoint *skipped*: it is never committed, so no attempt resumes there;
 * - a checkpoint with nothing pending is a boundary already and commits without a cut;
 * - nothing ever ends a batch on time.
 *
 * Every committed checkpoint therefore sits on a batch boundary, and the batches after it depend
 * only on the stream after it: the same stream gives the same batches under the same keys.
 */

/** The limits the rules read (from the batching settings). */
export interface CutLimits {
  readonly batchMaxAssets: number;
  readonly batchMaxBytes: number;
  readonly checkpointMinAssets: number;
}

/** What the batch being filled holds. */
export interface PendingBatch {
  readonly assets: number;
  readonly bytes: number;
}

/** What a checkpoint does to the pending batch. */
export type CheckpointDecision =
  /** Nothing pending: the checkpoint is on a boundary and commits once earlier batches are acked. */
  | 'boundary'
  /** Enough pending: the batch ends here and the checkpoint commits once it is acked. */
  | 'cut'
  /** Too little pending: the checkpoint is not committable and is dropped. */
  | 'skip';

/** True when the pending batch must end before a line of `lineBytes` is added to it. */
export function endsBeforeLine(
  pending: PendingBatch,
  lineBytes: number,
  limits: CutLimits,
): boolean {
  return (
    pending.assets > 0 &&
    (pending.assets + 1 > limits.batchMaxAssets || pending.bytes + lineBytes > limits.batchMaxBytes)
  );
}

/** What a connector checkpoint does, given the pending batch. */
export function checkpointDecision(pending: PendingBatch, limits: CutLimits): CheckpointDecision {
  if (pending.assets === 0) {
    return 'boundary';
  }
  // Capped at batchMaxAssets: a pending batch never holds more, so a higher minimum would make
  // every checkpoint skip and nothing would ever commit.
  const minAssets = Math.min(limits.checkpointMinAssets, limits.batchMaxAssets);
  if (pending.assets >= minAssets || pending.bytes > limits.batchMaxBytes / 2) {
    return 'cut';
  }
  return 'skip';
}

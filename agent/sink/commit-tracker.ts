import type { RunCheckpoint } from './types.ts';

/** A checkpoint waiting for the batches before its boundary to be acknowledged. */
interface PendingCommit {
  readonly checkpoint: RunCheckpoint;
}

/**
 * Turns out-of-order batch acknowledgements into in-order checkpoint commits.
 *
 * A checkpoint whose boundary is `nextSeq = n` commits once batches `0..n-1` (of this attempt,
 * from the resume point on) are all acknowledged. Commits are delivered one at a time, in order;
 * when several become committable while `onCommit` is still busy, only the newest is delivered
 * next: it covers the older ones, and the caller stores only the latest anyway.
 */
export class CommitTracker {
  readonly #onCommit: (checkpoint: RunCheckpoint) => Promise<void>;
  readonly #ackedAhead = new Set<number>();
  readonly #waiting: PendingCommit[] = [];
  #lowestUnacked: number;
  #queued: RunCheckpoint | undefined;
  #delivering: Promise<void> | undefined;
  #failure: unknown;
  #hasFailed = false;
  #committed: RunCheckpoint | undefined;
  #stopped = false;

  constructor(startSeq: number, onCommit: (checkpoint: RunCheckpoint) => Promise<void>) {
    this.#lowestUnacked = startSeq;
    this.#onCommit = onCommit;
  }

  /** The last checkpoint `onCommit` accepted. */
  get committed(): RunCheckpoint | undefined {
    return this.#committed;
  }

  /** The error `onCommit` threw, if it did: no commit is delivered after it. */
  get failure(): { readonly error: unknown } | undefined {
    return this.#hasFailed ? { error: this.#failure } : undefined;
  }

  /** Records the acknowledgement of batch `seq` (in any order). */
  acked(seq: number): void {
    if (seq < this.#lowestUnacked) {
      return;
    }
    this.#ackedAhead.add(seq);
    while (this.#ackedAhead.delete(this.#lowestUnacked)) {
      this.#lowestUnacked += 1;
    }
    this.#release();
  }

  /** Adds a checkpoint on a batch boundary; commits it as soon as its batches are acked. */
  add(checkpoint: RunCheckpoint): void {
    this.#waiting.push({ checkpoint });
    this.#release();
  }

  /** Delivers nothing more (a delivery under way finishes): the run was aborted. */
  stop(): void {
    this.#stopped = true;
    this.#queued = undefined;
  }

  /** Resolves when no commit is being delivered or queued; rejects if `onCommit` failed. */
  async settled(): Promise<void> {
    while (this.#delivering !== undefined) {
      await this.#delivering;
    }
    if (this.#hasFailed) {
      throw this.#failure;
    }
  }

  #release(): void {
    let newest: RunCheckpoint | undefined;
    while (
      this.#waiting[0] !== undefined &&
      this.#waiting[0].checkpoint.nextSeq <= this.#lowestUnacked
    ) {
      newest = this.#waiting.shift()?.checkpoint;
    }
    if (newest === undefined || this.#hasFailed || this.#stopped) {
      return;
    }
    this.#queued = newest;
    // Started on a later tick so that `#delivering` is set before delivery can finish.
    this.#delivering ??= Promise.resolve().then(() => this.#deliver());
  }

  async #deliver(): Promise<void> {
    try {
      while (this.#queued !== undefined && !this.#hasFailed) {
        const checkpoint = this.#queued;
        this.#queued = undefined;
        await this.#onCommit(checkpoint);
        this.#committed = checkpoint;
      }
    } catch (error) {
      this.#hasFailed = true;
      this.#failure = error;
    } finally {
      this.#delivering = undefined;
    }
  }
}

import type { Asset, JsonValue, SkipReason } from '../plugin-api/index.ts';
import type { EncodedAssets } from './ndjson.ts';

/** One kind's counts in a run's result (agent/run/tally.ts builds them). */
export interface KindCounts {
  /** The source's own total, where it stated one. */
  readonly reported?: number;
  readonly extracted: number;
  readonly skipped: number;
  /** The skipped ones per reason code; absent when none was skipped. */
  readonly skippedByReason?: Readonly<Partial<Record<SkipReason, number>>>;
}

/** One object a run skipped. */
export interface SkippedObject {
  readonly kind: string;
  readonly id: string;
  readonly reason: SkipReason;
  readonly message: string;
}

/** The tally as a checkpoint carries it, so that a resumed run's counts carry on. */
export interface TallySnapshot {
  readonly kinds: Readonly<Record<string, KindCounts>>;
  /** Skipped objects in all, and the first ones of them (bounded). */
  readonly skippedTotal: number;
  readonly skipped: readonly SkippedObject[];
}

/** A kind whose reported total differs from extracted + skipped. */
export interface Mismatch {
  readonly kind: string;
  readonly reported: number;
  readonly extracted: number;
  readonly skipped: number;
}

/** The honest part of an extract's result: what the source had, what was taken, what was not. */
export interface RunCounts {
  readonly kinds: Readonly<Record<string, KindCounts>>;
  /** True when anything was skipped: the run succeeded without some objects. */
  readonly partial: boolean;
  readonly skipped: {
    readonly total: number;
    /** True when `items` holds only the first of them. */
    readonly truncated: boolean;
    readonly items: readonly SkippedObject[];
  };
  /** False when a kind's reported total differs from extracted + skipped (see `mismatches`). */
  readonly reconciled: boolean;
  readonly mismatches: readonly Mismatch[];
}

/** The committed state of a run: enough to resume it and to keep batch numbers stable. */
export interface RunCheckpoint {
  /** The connector's cursor at the last batch boundary whose batches were all acknowledged. */
  readonly cursor: JsonValue;
  /** Sequence number of the next batch. */
  readonly nextSeq: number;
  /** Totals of the acknowledged batches so far. */
  readonly assets: number;
  readonly bytes: number;
  /** The run's counts up to this checkpoint; absent in checkpoints of older versions. */
  readonly tally?: TallySnapshot;
}

/** Counters reported while a run goes on. */
export interface RunProgress {
  readonly assets: number;
  readonly batches: number;
  readonly bytes: number;
}

/** Where a run's assets go: the catalog (HTTPS) or a directory (`perimeter run --output`). */
export interface Sink {
  /** Starts the sink side of one run attempt. */
  open(options: SinkOpenOptions): SinkRun;
  /** Aborts the runs still open and releases the transport. Idempotent, bounded in time. */
  close(): Promise<void>;
}

/** One run attempt, as the run executor opens it. */
export interface SinkOpenOptions {
  readonly runId: string;
  /** Connector name: a metrics label and a manifest field. */
  readonly connector: string;
  /** The last committed checkpoint when resuming: batch numbers and totals carry on from it. */
  readonly resume?: RunCheckpoint;
  /** The run's signal: stops waiting for room; batches in flight get `abort()`'s bounded wait. */
  readonly signal: AbortSignal;
  /** The secret references the run was given (never values), for the outbound ledger. */
  readonly secretRefs?: readonly string[];
  /** Called, in order, each time a checkpoint becomes committed. */
  readonly onCommit: (checkpoint: RunCheckpoint) => Promise<void>;
}

/** Totals of a finished run, including the part done by earlier attempts. */
export interface SinkSummary {
  readonly assets: number;
  readonly batches: number;
  readonly bytes: number;
}

/**
 * The sink side of one run attempt. Calls are sequential: await each before the next.
 */
export interface SinkRun {
  /**
   * Validates and adds one asset; resolves once there is room (backpressure: at most
   * maxInFlightBatches batches in flight plus the one being filled). Throws the sink's error if
   * an earlier batch failed for good.
   */
  write(asset: Asset): Promise<void>;
  /**
   * Adds assets a run thread checked and encoded (`encodeAssetLine`), as `write` would add each,
   * in order: the same cut rules, size limit and backpressure.
   */
  writeEncoded(block: EncodedAssets): Promise<void>;
  /** The connector's checkpoint after everything written so far. */
  checkpoint(cursor: JsonValue, tally?: TallySnapshot): Promise<void>;
  /**
   * After a normal end only: flush, await every acknowledgement, then `complete` with the run's
   * counts.
   */
  complete(counts?: RunCounts): Promise<SinkSummary>;
  /**
   * After an abort or failure: send nothing new, wait (bounded) for batches in flight so the
   * last commit is as late as possible, never call complete. Idempotent; never throws.
   */
  abort(): Promise<void>;
  /** Acknowledged totals so far, including the resumed part. */
  readonly progress: RunProgress;
}

/** How a batch was acknowledged: a metrics label. */
export type BatchOutcome = 'stored' | 'duplicate' | 'written';

/** The body of the batch being filled, in the transport's own encoding. */
export interface BatchBody<P> {
  /**
   * Adds whole NDJSON lines, each with its newline: one line or a chunk of many. The body may
   * keep `lines` until it has read them; it then calls `release`, if given, once, and the caller
   * may reuse their memory. A body that fails or is discarded may never call it.
   */
  append(lines: Buffer, release?: () => void): Promise<void>;
  /** Ends the body and returns what the transport sends. Called at most once. */
  finish(): Promise<P>;
  /** Drops the body without sending it. */
  discard(): void;
}

/** A finished batch, ready to be sent (and re-sent: the payload never changes). */
export interface SealedBatch<P> {
  readonly seq: number;
  readonly assets: number;
  /** Uncompressed NDJSON bytes. */
  readonly bytes: number;
  readonly payload: P;
}

/** What differs between sinks: how a body is built and where it goes. */
export interface BatchTransport<P> {
  /** Starts the body of batch `seq`. */
  createBody(seq: number): BatchBody<P>;
  /**
   * Delivers one batch, retrying as the transport sees fit; resolves once it is acknowledged.
   * Throws a PerimeterError when it fails for good. `signal` cuts retries and requests.
   */
  send(batch: SealedBatch<P>, signal: AbortSignal): Promise<BatchOutcome>;
  /** Declares the run complete, after every batch was acknowledged, with its counts. */
  complete(summary: SinkSummary, signal: AbortSignal, counts?: RunCounts): Promise<void>;
}

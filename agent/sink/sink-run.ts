import type { Metrics } from '../metrics/metrics.ts';
import { PerimeterError, toPerimeterError, waitAtMost } from '../plugin-api/index.ts';
import type { Asset, JsonValue, Logger } from '../plugin-api/index.ts';
import { CommitTracker } from './commit-tracker.ts';
import { checkpointDecision, endsBeforeLine } from './cut-rules.ts';
import { LineBuffer, assetTooLarge, encodeAssetLine } from './ndjson.ts';
import type { EncodedAssets } from './ndjson.ts';
import type { BatchingSettings } from './settings.ts';
import type {
  BatchBody,
  BatchOutcome,
  BatchTransport,
  RunCounts,
  RunProgress,
  SealedBatch,
  SinkOpenOptions,
  SinkRun,
  SinkSummary,
  TallySnapshot,
} from './types.ts';

/** What a sink gives each run it opens. */
export interface SinkRunDeps<P> {
  /** The transport of this run (bound to its run id). */
  readonly transport: BatchTransport<P>;
  readonly batching: BatchingSettings;
  /** Logger already bound to `component: sink` and the run id. */
  readonly logger: Logger;
  readonly metrics: Metrics | undefined;
  /** How long `abort()` waits for batches in flight before cancelling them. */
  readonly abortWaitMs: number;
  /** Called once the run completed or its abort finished. */
  readonly onSettled?: () => void;
}

type RunState = 'open' | 'completing' | 'completed' | 'aborted';

/**
 * Lines are written straight into a chunk and handed to the batch body once it holds about this
 * many bytes: one body call (and one Buffer) per line costs more than encoding the line.
 */
const CHUNK_BYTES = 64 * 1024;

interface Totals {
  assets: number;
  bytes: number;
}

/**
 * The batching core shared by every sink: validation and NDJSON encoding, the cut rules, seq
 * numbering from the resume point, bounded batches in flight, and in-order commits. The
 * transport only builds bodies and delivers them.
 */
export class BatchingSinkRun<P> implements SinkRun {
  readonly #options: SinkOpenOptions;
  readonly #deps: SinkRunDeps<P>;
  readonly #tracker: CommitTracker;
  readonly #inFlight = new Map<number, Promise<void>>();
  readonly #waiters = new Set<() => void>();
  readonly #sendController = new AbortController();
  /** Seq of the batch being filled. */
  #seq: number;
  #body: BatchBody<P> | undefined;
  /** Lines of the batch being filled not yet handed to its body. */
  readonly #chunk = new LineBuffer(2 * CHUNK_BYTES);
  #pending: Totals = { assets: 0, bytes: 0 };
  /** Totals of every batch sealed so far (resumed part included): what a checkpoint carries. */
  readonly #sealed: Totals;
  readonly #acked: Totals & { batches: number };
  #failure: PerimeterError | undefined;
  #state: RunState = 'open';
  #busy = false;
  #aborting: Promise<void> | undefined;

  constructor(options: SinkOpenOptions, deps: SinkRunDeps<P>) {
    this.#options = options;
    this.#deps = deps;
    this.#seq = options.resume?.nextSeq ?? 0;
    this.#sealed = { assets: options.resume?.assets ?? 0, bytes: options.resume?.bytes ?? 0 };
    this.#acked = { ...this.#sealed, batches: this.#seq };
    this.#tracker = new CommitTracker(this.#seq, async (checkpoint) => {
      await options.onCommit(checkpoint);
      deps.logger.debug(
        { nextSeq: checkpoint.nextSeq, assets: checkpoint.assets },
        'Checkpoint committed',
      );
    });
  }

  get progress(): RunProgress {
    return { assets: this.#acked.assets, batches: this.#acked.batches, bytes: this.#acked.bytes };
  }

  async write(asset: Asset): Promise<void> {
    this.#enter('write');
    try {
      const line = encodeAssetLine(asset, this.#deps.batching.batchMaxBytes);
      if (endsBeforeLine(this.#pending, line.bytes, this.#deps.batching)) {
        await this.#cut();
      }
      this.#chunk.put(line.json, line.bytes);
      this.#pending.assets += 1;
      this.#pending.bytes += line.bytes;
      if (this.#chunk.bytes >= CHUNK_BYTES) {
        await this.#flushChunk();
      }
    } finally {
      this.#busy = false;
    }
  }

  /**
   * Adds assets a run thread already checked and encoded, as they are: the same cut rules and
   * size limit as `write`, line by line, but the lines go to the batch body in runs of whole
   * lines, without being copied or parsed.
   */
  async writeEncoded(block: EncodedAssets): Promise<void> {
    this.#enter('write');
    try {
      const { batching } = this.#deps;
      let start = 0;
      let end = 0;
      for (let index = 0; index < block.lineBytes.length; index += 1) {
        const bytes = block.lineBytes[index] ?? 0;
        if (bytes > batching.batchMaxBytes) {
          // The assets before it are written, as `write` would have written them.
          await this.#appendLines(block, start, end);
          throw assetTooLarge(block.typeNameAt(index), bytes, batching.batchMaxBytes);
        }
        if (endsBeforeLine(this.#pending, bytes, batching)) {
          await this.#appendLines(block, start, end);
          start = end;
          await this.#cut();
        }
        end += bytes;
        this.#pending.assets += 1;
        this.#pending.bytes += bytes;
      }
      await this.#appendLines(block, start, end);
    } finally {
      this.#busy = false;
    }
  }

  async checkpoint(cursor: JsonValue, tally?: TallySnapshot): Promise<void> {
    this.#enter('checkpoint');
    try {
      const decision = checkpointDecision(this.#pending, this.#deps.batching);
      if (decision === 'skip') {
        this.#deps.logger.debug({ pendingAssets: this.#pending.assets }, 'Checkpoint skipped');
        return;
      }
      if (decision === 'cut') {
        await this.#cut();
      }
      this.#tracker.add({
        cursor,
        nextSeq: this.#seq,
        ...this.#sealed,
        ...(tally === undefined ? {} : { tally }),
      });
    } finally {
      this.#busy = false;
    }
  }

  async complete(counts?: RunCounts): Promise<SinkSummary> {
    this.#enter('complete');
    this.#state = 'completing';
    try {
      if (this.#pending.assets > 0) {
        await this.#cut();
      }
      await Promise.all(this.#inFlight.values());
      this.#throwIfFailed();
      await this.#tracker.settled();
      const summary: SinkSummary = { ...this.#sealed, batches: this.#seq };
      await this.#deps.transport.complete(summary, this.#options.signal, counts);
      this.#state = 'completed';
      this.#deps.onSettled?.();
      return summary;
    } finally {
      this.#busy = false;
    }
  }

  abort(): Promise<void> {
    this.#aborting ??= this.#abort();
    return this.#aborting;
  }

  async #abort(): Promise<void> {
    const wasCompleted = this.#state === 'completed';
    this.#state = 'aborted';
    this.#chunk.take();
    this.#body?.discard();
    this.#body = undefined;
    if (wasCompleted) {
      return;
    }
    const started = Date.now();
    const inFlight = this.#inFlight.size;
    const waited = await withDeadline(
      Promise.all(this.#inFlight.values()).then(() => this.#tracker.settled()),
      this.#deps.abortWaitMs,
    );
    this.#sendController.abort(new PerimeterError('RUN_ABORTED', 'The run was aborted'));
    await Promise.all(this.#inFlight.values());
    this.#tracker.stop();
    this.#deps.onSettled?.();
    this.#deps.logger.info(
      {
        inFlightBatches: inFlight,
        waitedMs: Date.now() - started,
        drained: waited,
        committedSeq: this.#tracker.committed?.nextSeq,
      },
      'Sink run aborted',
    );
  }

  /** Guards a call: the run must be open, healthy, and not inside another call. */
  #enter(call: string): void {
    this.#throwIfFailed();
    const misuse =
      this.#state !== 'open'
        ? `after the run was ${this.#state}`
        : this.#busy
          ? 'during another call'
          : undefined;
    if (misuse !== undefined) {
      throw new PerimeterError('INTERNAL', `SinkRun.${call} was called ${misuse}`, {
        context: { runId: this.#options.runId },
      });
    }
    this.#busy = true;
  }

  #throwIfFailed(): void {
    if (this.#failure !== undefined) {
      throw this.#failure;
    }
    const commitFailure = this.#tracker.failure;
    if (commitFailure !== undefined) {
      throw toPerimeterError(commitFailure.error);
    }
  }

  /** Ends the batch being filled and hands it to the transport once there is room. */
  async #cut(): Promise<void> {
    if (this.#chunk.bytes > 0) {
      await this.#flushChunk();
    }
    const body = this.#body;
    if (body === undefined) {
      return;
    }
    const meta = { seq: this.#seq, ...this.#pending };
    this.#body = undefined;
    this.#seq += 1;
    this.#pending = { assets: 0, bytes: 0 };
    this.#sealed.assets += meta.assets;
    this.#sealed.bytes += meta.bytes;
    const payload = await body.finish();
    await this.#waitForRoom();
    this.#dispatch({ ...meta, payload });
  }

  /** Hands the lines gathered so far to the body of the batch being filled. */
  async #flushChunk(): Promise<void> {
    this.#body ??= this.#deps.transport.createBody(this.#seq);
    // The body may keep the chunk (zlib reads it later): LineBuffer starts a new one.
    await this.#body.append(this.#chunk.take());
  }

  /**
   * Hands the block's lines from byte `start` to `end` to the body as they are, after the lines
   * gathered before them; the body releases them once read.
   */
  async #appendLines(block: EncodedAssets, start: number, end: number): Promise<void> {
    if (end === start) {
      return;
    }
    if (this.#chunk.bytes > 0) {
      await this.#flushChunk();
    }
    this.#body ??= this.#deps.transport.createBody(this.#seq);
    const { lines } = block;
    const part = Buffer.from(lines.buffer, lines.byteOffset + start, end - start);
    await this.#body.append(part, block.hold());
  }

  async #waitForRoom(): Promise<void> {
    while (this.#inFlight.size >= this.#deps.batching.maxInFlightBatches) {
      this.#throwIfFailed();
      await this.#nextSettle();
    }
    this.#throwIfFailed();
  }

  /** Resolves when a batch in flight settles; rejects with the run's abort reason. */
  #nextSettle(): Promise<void> {
    const { signal } = this.#options;
    return new Promise((resolve, reject) => {
      const onAbort = (): void => {
        this.#waiters.delete(wake);
        reject(toPerimeterError(signal.reason));
      };
      const wake = (): void => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      };
      if (signal.aborted) {
        onAbort();
        return;
      }
      this.#waiters.add(wake);
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  #dispatch(batch: SealedBatch<P>): void {
    const task = this.#deps.transport
      .send(batch, this.#sendController.signal)
      .then(
        (outcome) => {
          this.#onAcked(batch, outcome);
        },
        (error: unknown) => {
          this.#failure ??= toPerimeterError(error);
          this.#deps.logger.debug({ seq: batch.seq, err: error }, 'Batch failed');
        },
      )
      .finally(() => {
        this.#inFlight.delete(batch.seq);
        for (const wake of [...this.#waiters]) {
          this.#waiters.delete(wake);
          wake();
        }
      });
    this.#inFlight.set(batch.seq, task);
  }

  #onAcked(batch: SealedBatch<P>, outcome: BatchOutcome): void {
    this.#acked.assets += batch.assets;
    this.#acked.bytes += batch.bytes;
    this.#acked.batches += 1;
    const { metrics } = this.#deps;
    metrics?.batchesTotal.inc({ outcome });
    metrics?.batchBytesTotal.inc(batch.bytes);
    metrics?.assetsTotal.inc({ connector: this.#options.connector }, batch.assets);
    this.#deps.logger.debug(
      { seq: batch.seq, assets: batch.assets, bytes: batch.bytes, outcome },
      'Batch acknowledged',
    );
    this.#tracker.acked(batch.seq);
  }
}

/** Waits for `work` at most `ms`; true when it settled in time. Never rejects. */
async function withDeadline(work: Promise<unknown>, ms: number): Promise<boolean> {
  const settled = work.then(
    () => true,
    () => true,
  );
  const outcome = await waitAtMost(settled, ms);
  return !outcome.timedOut;
}

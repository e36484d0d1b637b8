import type {
  BatchBody,
  BatchOutcome,
  BatchTransport,
  SealedBatch,
  SinkSummary,
} from '../../../agent/sink/types.ts';

/** A batch handed to the transport, with the controls that acknowledge or fail it. */
export interface SentBatch {
  readonly seq: number;
  readonly assets: number;
  readonly bytes: number;
  /** The NDJSON lines, without their newlines. */
  readonly lines: readonly string[];
  readonly signal: AbortSignal;
  ack(outcome?: BatchOutcome): void;
  fail(error: Error): void;
}

/**
 * A fake of the sink's transport interface for the batching core's unit tests: records every
 * batch and leaves acknowledging it to the test (or acknowledges at once with `autoAck`).
 */
export class ManualTransport implements BatchTransport<readonly string[]> {
  readonly sent: SentBatch[] = [];
  readonly completes: SinkSummary[] = [];
  autoAck: boolean;

  constructor(options: { readonly autoAck?: boolean } = {}) {
    this.autoAck = options.autoAck ?? false;
  }

  createBody(): BatchBody<readonly string[]> {
    const lines: string[] = [];
    return {
      append: (chunk, release) => {
        lines.push(...chunk.toString('utf8').replace(/\n$/, '').split('\n'));
        // Read (copied) at once: the chunk's memory may be reused.
        release?.();
        return Promise.resolve();
      },
      finish: () => Promise.resolve(lines),
      discard: () => {
        lines.length = 0;
      },
    };
  }

  send(batch: SealedBatch<readonly string[]>, signal: AbortSignal): Promise<BatchOutcome> {
    return new Promise((resolve, reject) => {
      signal.addEventListener('abort', () => {
        reject(signal.reason as Error);
      });
      this.sent.push({
        seq: batch.seq,
        assets: batch.assets,
        bytes: batch.bytes,
        lines: batch.payload,
        signal,
        ack: (outcome = 'stored') => {
          resolve(outcome);
        },
        fail: (error) => {
          reject(error);
        },
      });
      if (this.autoAck) {
        resolve('stored');
      }
    });
  }

  complete(summary: SinkSummary): Promise<void> {
    this.completes.push(summary);
    return Promise.resolve();
  }

  /** The batch with this seq (throws when it was not sent). */
  batch(seq: number): SentBatch {
    const found = this.sent.find((batch) => batch.seq === seq);
    if (found === undefined) {
      throw new Error(`batch ${seq} was not sent`);
    }
    return found;
  }
}

import type { MessagePort } from 'node:worker_threads';
import type { BudgetStore, Reservation } from '../../http/budget.ts';
import type { Metrics } from '../../metrics/metrics.ts';
import { PerimeterError } from '../../plugin-api/index.ts';
import { fromWire } from './protocol.ts';
import type { ChunkEncoder } from './chunks.ts';
import type { FromThread, ToThread } from './protocol.ts';

/** Buffers kept for reuse: as many as chunks may be in flight, and a few being read. */
const MAX_FREE_BUFFERS = 16;

/**
 * The thread's side of what stays in the core: the request budget (the core holds the Redis
 * bucket every replica shares), the metrics registry (/metrics is served by the core) and the
 * credit of event chunks (backpressure from the sink reaches the connector's `yield`).
 */
export class CoreLink {
  readonly #port: MessagePort;
  readonly #pending = new Map<number, { resolve(r: Reservation): void; reject(e: Error): void }>();
  #nextId = 0;
  #inFlight = 0;
  #onCredit: (() => void) | undefined;
  /** Lines buffers the core gave back, to fill again. */
  readonly #free: ArrayBuffer[] = [];

  constructor(port: MessagePort) {
    this.#port = port;
  }

  post(message: FromThread, transfer: readonly ArrayBuffer[] = []): void {
    this.#port.postMessage(message, transfer);
  }

  /** Handles the core's replies; returns false for messages that are not the link's. */
  receive(message: ToThread): boolean {
    if (message.type === 'pull') {
      for (const buffer of message.buffers ?? []) {
        if (this.#free.length < MAX_FREE_BUFFERS) {
          this.#free.push(buffer);
        }
      }
      this.#inFlight = Math.max(0, this.#inFlight - 1);
      this.#onCredit?.();
      return true;
    }
    if (message.type !== 'budgetReply') {
      return false;
    }
    const waiter = this.#pending.get(message.id);
    this.#pending.delete(message.id);
    if (message.error !== undefined) {
      waiter?.reject(fromWire(message.error));
    } else {
      waiter?.resolve({
        waitMs: message.waitMs ?? 0,
        requestsPerSecond: message.requestsPerSecond ?? 0,
      });
    }
    return true;
  }

  /** Sends a chunk (`ChunkEncoder`), first waiting while `maxInFlight` chunks are unconsumed. */
  async sendEvents(encoder: ChunkEncoder, maxInFlight: number, signal: AbortSignal): Promise<void> {
    while (this.#inFlight >= maxInFlight) {
      signal.throwIfAborted();
      await new Promise<void>((resolve) => {
        const done = (): void => {
          this.#onCredit = undefined;
          signal.removeEventListener('abort', done);
          resolve();
        };
        this.#onCredit = done;
        signal.addEventListener('abort', done, { once: true });
      });
    }
    signal.throwIfAborted();
    this.#inFlight += 1;
    const { chunk, transfer } = encoder.take();
    this.post({ type: 'events', chunk }, transfer);
  }

  /**
   * A Buffer of at least `bytes` for a chunk's lines: one the core gave back when it is large
   * enough, else a new one. Reusing them keeps the core's heap from counting every chunk as new
   * external memory, which makes V8 collect its old generation again and again.
   */
  readonly allocate = (bytes: number): Buffer => {
    const reused = this.#free.pop();
    return reused !== undefined && reused.byteLength >= bytes
      ? Buffer.from(reused)
      : Buffer.allocUnsafeSlow(bytes);
  };

  /** A run starts with no chunk outstanding. */
  resetCredit(): void {
    this.#inFlight = 0;
  }

  /** The core's budget store, one round trip per reservation. */
  budgetStore(): BudgetStore {
    const call = (op: 'reserve' | 'rereserve' | 'shrink', fields: object): Promise<Reservation> =>
      new Promise((resolve, reject) => {
        const id = (this.#nextId += 1);
        this.#pending.set(id, { resolve, reject });
        this.post({ type: 'budget', id, op, ...fields } as FromThread);
      });
    return {
      reserve: (source, limit, again = false) =>
        call(again ? 'rereserve' : 'reserve', { source, limit }),
      shrink: async (source, limit, retryAfterMs) => {
        await call('shrink', { source, limit, retryAfterMs });
      },
    };
  }

  /** Fails the budget waits of a run that ended, so nothing waits for a reply that never comes. */
  failPending(): void {
    for (const waiter of this.#pending.values()) {
      waiter.reject(new PerimeterError('RUN_ABORTED', 'The run ended'));
    }
    this.#pending.clear();
  }

  /** Metrics whose every update is applied to the core's registry. */
  metrics(): Metrics {
    const cache = new Map<string, object>();
    const forward = (name: string): object => {
      const ops = ['inc', 'dec', 'set', 'observe'] as const;
      const metric = Object.fromEntries(
        ops.map((op) => [
          op,
          (...args: unknown[]) => {
            this.post({ type: 'metric', name, op, args });
          },
        ]),
      );
      cache.set(name, metric);
      return metric;
    };
    return new Proxy(
      {},
      {
        get: (_target, name) =>
          typeof name === 'string' ? (cache.get(name) ?? forward(name)) : undefined,
      },
    ) as Metrics;
  }
}

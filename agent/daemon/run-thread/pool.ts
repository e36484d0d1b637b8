import { Worker } from 'node:worker_threads';
import type { Logger as PinoLogger } from 'pino';
import { PerimeterError } from '../../plugin-api/index.ts';
import { decodeChunk } from './chunks.ts';
import { runThreadLimits } from './heap.ts';
import { fromWire } from './protocol.ts';
import type { FromThread, StartRun, ThreadData, ToThread } from './protocol.ts';

/** What the core does with a run's messages other than its own events. */
export interface SessionHandlers {
  /** A log line, a metric update or a budget call. */
  onService(message: FromThread, reply: (message: ToThread) => void): void;
}

/** The end of an operation: `read`'s return value, `check`'s report. */
export interface Settled {
  readonly value: unknown;
}

/** One operation running in a thread, seen from the core. */
export interface ThreadSession {
  /** The next chunk of items, or the end; a failure (thread death included) rejects. */
  next(): Promise<readonly unknown[] | Settled>;
  /** Lets the thread send one more chunk. */
  pull(): void;
  /** Stops the operation at once (the signal the connector holds aborts). */
  abort(reason: PerimeterError): void;
  /** Gives the thread back; one still running is stopped first, and killed if it does not stop. */
  end(): void;
}

/** How long an aborted operation may take to stop before its thread is terminated. */
const STOP_GRACE_MS = 2_000;
const EXTENSION = import.meta.url.endsWith('.ts') ? 'ts' : 'js';
const ENTRY = new URL(`./thread.${EXTENSION}`, import.meta.url);

/** A worker thread with a heap cap, running one operation at a time. */
class RunThread {
  readonly memoryMb: number;
  readonly #worker: Worker;
  #alive = true;
  #inbox: ((message: FromThread | PerimeterError) => void) | undefined;
  #handlers: SessionHandlers | undefined;
  #lastHeapMb = 0;

  constructor(data: ThreadData, memoryMb: number) {
    this.memoryMb = memoryMb;
    this.#worker = new Worker(ENTRY, {
      workerData: data,
      resourceLimits: runThreadLimits(memoryMb),
      // The core's environment holds values a connector has no business reading.
      env: {},
      stdout: false,
      stderr: false,
    });
    this.#worker.on('message', (message: FromThread) => {
      this.#receive(message);
    });
    this.#worker.on('error', (error: Error & { code?: string }) => {
      this.#die(
        error.code === 'ERR_WORKER_OUT_OF_MEMORY'
          ? new PerimeterError(
              'RUN_RESOURCE_EXHAUSTED',
              `The run exceeded its memory cap of ${this.memoryMb} MiB`,
              { context: { runMemoryMb: this.memoryMb } },
            )
          : new PerimeterError('INTERNAL', 'The run thread failed', { cause: error }),
      );
    });
    this.#worker.on('exit', () => {
      this.#die(new PerimeterError('INTERNAL', 'The run thread stopped unexpectedly'));
    });
  }

  get alive(): boolean {
    return this.#alive;
  }

  get lastHeapMb(): number {
    return this.#lastHeapMb;
  }

  /** Idle threads must not keep the process alive. */
  unref(): void {
    this.#worker.unref();
  }

  ref(): void {
    this.#worker.ref();
  }

  start(run: StartRun, handlers: SessionHandlers, onEnd: () => void): ThreadSession {
    this.#handlers = handlers;
    const queue: (FromThread | PerimeterError)[] = [];
    let waiting: ((message: FromThread | PerimeterError) => void) | undefined;
    let settled = false;
    // The chunk being handed on, and the lines' memory read by now, to go back with the next pull.
    let releaseChunk: (() => void) | undefined;
    const freed: ArrayBuffer[] = [];
    this.#inbox = (message) => {
      if (waiting === undefined) {
        queue.push(message);
      } else {
        const resolve = waiting;
        waiting = undefined;
        resolve(message);
      }
    };
    this.post({ type: 'start', run });
    // The message holds its own copy now; the core's goes.
    Object.values(run.credentials).forEach((bytes) => bytes.fill(0));
    const take = (): Promise<FromThread | PerimeterError> => {
      const queued = queue.shift();
      return queued !== undefined
        ? Promise.resolve(queued)
        : new Promise((resolve) => {
            waiting = resolve;
          });
    };
    return {
      next: async () => {
        const message = await take();
        if (message instanceof PerimeterError) {
          settled = true;
          throw message;
        }
        if (message.type === 'events') {
          const { items, release } = decodeChunk(message.chunk, (buffer) => freed.push(buffer));
          releaseChunk = release;
          return items;
        }
        settled = true;
        if (message.type === 'failed') {
          this.#lastHeapMb = message.heapUsedMb;
          throw fromWire(message.error);
        }
        this.#lastHeapMb = (message as { heapUsedMb: number }).heapUsedMb;
        return { value: (message as { value: unknown }).value };
      },
      pull: () => {
        releaseChunk?.();
        releaseChunk = undefined;
        const buffers = freed.splice(0);
        this.post({ type: 'pull', buffers }, buffers);
      },
      abort: (reason) => {
        if (!settled) {
          this.post({ type: 'abort', reason: { ...reason.toSummary() } });
        }
      },
      end: () => {
        if (settled || !this.#alive) {
          this.#inbox = undefined;
          onEnd();
          return;
        }
        this.post({
          type: 'abort',
          reason: { code: 'RUN_ABORTED', message: 'The run ended', retryable: true, context: {} },
        });
        void this.#awaitStop(take).then(onEnd);
      },
    };
  }

  /** Waits for the aborted operation's last word; terminates the thread if it does not come. */
  async #awaitStop(take: () => Promise<FromThread | PerimeterError>): Promise<void> {
    const timer = setTimeout(() => {
      void this.terminate();
    }, STOP_GRACE_MS);
    for (;;) {
      const message = await take();
      if (
        message instanceof PerimeterError ||
        message.type === 'done' ||
        message.type === 'failed'
      ) {
        break;
      }
      this.post({ type: 'pull' });
    }
    clearTimeout(timer);
    this.#inbox = undefined;
  }

  post(message: ToThread, transfer: readonly ArrayBuffer[] = []): void {
    if (this.#alive) {
      this.#worker.postMessage(message, transfer);
    }
  }

  async terminate(): Promise<void> {
    this.#alive = false;
    await this.#worker.terminate();
  }

  #receive(message: FromThread): void {
    if (message.type === 'events' || message.type === 'done' || message.type === 'failed') {
      this.#inbox?.(message);
      return;
    }
    this.#handlers?.onService(message, (reply) => {
      this.post(reply);
    });
  }

  #die(reason: PerimeterError): void {
    if (!this.#alive && this.#inbox === undefined) {
      return;
    }
    this.#alive = false;
    const inbox = this.#inbox;
    this.#inbox = undefined;
    inbox?.(reason);
  }
}

/** Options of {@link RunThreadPool}. */
export interface RunThreadPoolOptions {
  readonly data: ThreadData;
  /** Idle threads kept for the next runs (per memory cap together). */
  readonly maxIdle: number;
  readonly logger: PinoLogger;
}

/**
 * Run threads, reused: a thread is created with a heap cap and serves runs of that cap one after
 * another, so the start-up cost (a fresh isolate, the connectors' modules) is paid rarely. A
 * thread that died (heap cap) is never reused; one left holding more than half its cap after a
 * run is retired, so one run's leftovers do not shrink the next one's room.
 */
export class RunThreadPool {
  readonly #options: RunThreadPoolOptions;
  readonly #idle: RunThread[] = [];
  readonly #busy = new Set<RunThread>();
  #closed = false;

  constructor(options: RunThreadPoolOptions) {
    this.#options = options;
  }

  /** Threads created so far and idle now (tests and /status). */
  get size(): { readonly idle: number; readonly busy: number } {
    return { idle: this.#idle.length, busy: this.#busy.size };
  }

  /** Runs one operation in a thread capped at `memoryMb`. */
  start(run: StartRun, memoryMb: number, handlers: SessionHandlers): ThreadSession {
    if (this.#closed) {
      throw new PerimeterError('RUN_ABORTED', 'The agent is shutting down');
    }
    const index = this.#idle.findIndex((thread) => thread.memoryMb === memoryMb && thread.alive);
    const reused = index >= 0 ? this.#idle.splice(index, 1)[0] : undefined;
    const thread = reused ?? new RunThread(this.#options.data, memoryMb);
    thread.ref();
    this.#busy.add(thread);
    return thread.start(run, handlers, () => {
      this.#release(thread);
    });
  }

  #release(thread: RunThread): void {
    this.#busy.delete(thread);
    const keep =
      !this.#closed &&
      thread.alive &&
      thread.lastHeapMb <= thread.memoryMb / 2 &&
      this.#idle.length < this.#options.maxIdle;
    if (!keep) {
      void thread.terminate();
      return;
    }
    thread.unref();
    this.#idle.push(thread);
  }

  /** Terminates every thread; runs still in one fail. Idempotent. */
  async close(): Promise<void> {
    this.#closed = true;
    const threads = [...this.#idle.splice(0), ...this.#busy];
    await Promise.allSettled(threads.map((thread) => thread.terminate()));
  }
}

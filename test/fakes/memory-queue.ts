import type { PerimeterError } from '../../agent/plugin-api/index.ts';
import type {
  EventOutbox,
  InstructionTarget,
  OutboxEntry,
  RunEventBody,
  ScheduleSpec,
} from '../../agent/run/contract.ts';
import type { RunSpec } from '../../agent/run/types.ts';

/**
 * An InstructionTarget in memory, for link tests: the same idempotency as the BullMQ one (a run
 * id is queued once), every call recorded, and a switch to fail calls like an unreachable Redis.
 */
export class MemoryInstructionTarget implements InstructionTarget {
  readonly runs = new Map<string, RunSpec>();
  readonly schedules = new Map<string, ScheduleSpec>();
  readonly cancelled: string[] = [];
  /** Every call in order: method and the id it named. */
  readonly calls: { readonly method: string; readonly id: string }[] = [];
  /** While set, every call throws it (e.g. a REDIS_UNAVAILABLE). */
  failWith: PerimeterError | undefined;

  enqueueRun(spec: RunSpec): Promise<'queued' | 'duplicate'> {
    this.#record('enqueueRun', spec.runId);
    if (this.runs.has(spec.runId)) {
      return Promise.resolve('duplicate');
    }
    this.runs.set(spec.runId, spec);
    return Promise.resolve('queued');
  }

  cancelRun(runId: string): Promise<'cancelled' | 'unknown'> {
    this.#record('cancelRun', runId);
    this.cancelled.push(runId);
    return Promise.resolve(this.runs.has(runId) ? 'cancelled' : 'unknown');
  }

  upsertSchedule(schedule: ScheduleSpec): Promise<void> {
    this.#record('upsertSchedule', schedule.scheduleId);
    this.schedules.set(schedule.scheduleId, schedule);
    return Promise.resolve();
  }

  removeSchedule(scheduleId: string): Promise<'removed' | 'unknown'> {
    this.#record('removeSchedule', scheduleId);
    return Promise.resolve(this.schedules.delete(scheduleId) ? 'removed' : 'unknown');
  }

  /** How many calls named this id. */
  callsFor(id: string): number {
    return this.calls.filter((call) => call.id === id).length;
  }

  #record(method: string, id: string): void {
    if (this.failWith !== undefined) {
      throw this.failWith;
    }
    this.calls.push({ method, id });
  }
}

/**
 * An EventOutbox in memory with the semantics of the Redis stream one: per-run seq from 0,
 * `read` returns entries after the last read (oldest first) and waits up to `blockMs`, entries
 * stay until acknowledged.
 */
export class MemoryEventOutbox implements EventOutbox {
  readonly #entries: { readonly number: number; readonly entry: OutboxEntry }[] = [];
  readonly #seqByRun = new Map<string, number>();
  readonly #wakers = new Set<() => void>();
  #counter = 0;
  #readUpTo = 0;
  /** Reads so far (to see that the link keeps reading). */
  reads = 0;

  append(runId: string, event: RunEventBody): Promise<void> {
    const seq = this.#seqByRun.get(runId) ?? 0;
    this.#seqByRun.set(runId, seq + 1);
    this.#counter += 1;
    const entry: OutboxEntry = {
      id: `${this.#counter}-0`,
      event: { ...event, runId, seq, at: new Date().toISOString() },
    };
    this.#entries.push({ number: this.#counter, entry });
    for (const wake of this.#wakers) {
      wake();
    }
    return Promise.resolve();
  }

  async read(options: {
    readonly signal: AbortSignal;
    readonly max: number;
    readonly blockMs: number;
  }): Promise<OutboxEntry[]> {
    this.reads += 1;
    options.signal.throwIfAborted();
    if (!this.#entries.some((item) => item.number > this.#readUpTo)) {
      await this.#waitForAppend(options.blockMs, options.signal);
    }
    const fresh = this.#entries
      .filter((item) => item.number > this.#readUpTo)
      .slice(0, options.max);
    this.#readUpTo = fresh.at(-1)?.number ?? this.#readUpTo;
    return fresh.map((item) => item.entry);
  }

  ack(ids: readonly string[]): Promise<void> {
    const acked = new Set(ids);
    for (let index = this.#entries.length - 1; index >= 0; index -= 1) {
      if (acked.has(this.#entries[index]?.entry.id ?? '')) {
        this.#entries.splice(index, 1);
      }
    }
    return Promise.resolve();
  }

  pending(): Promise<number> {
    return Promise.resolve(this.#entries.length);
  }

  #waitForAppend(blockMs: number, signal: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      const cleanup = (): void => {
        clearTimeout(timer);
        this.#wakers.delete(done);
        signal.removeEventListener('abort', aborted);
      };
      const done = (): void => {
        cleanup();
        resolve();
      };
      const aborted = (): void => {
        cleanup();
        reject(signal.reason as Error);
      };
      const timer = setTimeout(done, blockMs);
      this.#wakers.add(done);
      signal.addEventListener('abort', aborted, { once: true });
    });
  }
}

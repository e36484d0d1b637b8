import { PerimeterError } from '../plugin-api/index.ts';

/**
 * A worker's concurrency as slots that runs take by weight (`Connector.weight`): a heavy run
 * holds several, so fewer others run beside it. First come, first served: a heavy run waiting
 * for room is not overtaken by light ones, so it cannot starve. A weight above the total is
 * taken as the total (the run then runs alone).
 */
export class WeightedSlots {
  readonly #total: number;
  #free: number;
  readonly #waiting: { weight: number; grant(): void }[] = [];

  constructor(total: number) {
    this.#total = total;
    this.#free = total;
  }

  /** Slots free now (for tests and /status). */
  get free(): number {
    return this.#free;
  }

  /** Waits for `weight` slots; resolves with their release. Rejects when `signal` aborts. */
  async acquire(weight: number, signal: AbortSignal): Promise<() => void> {
    const wanted = Math.min(this.#total, Math.max(1, Math.floor(weight)));
    if (this.#waiting.length === 0 && this.#free >= wanted) {
      this.#free -= wanted;
      return this.#releaser(wanted);
    }
    signal.throwIfAborted();
    await new Promise<void>((resolve, reject) => {
      const entry = {
        weight: wanted,
        grant: () => {
          signal.removeEventListener('abort', onAbort);
          resolve();
        },
      };
      const onAbort = (): void => {
        this.#waiting.splice(this.#waiting.indexOf(entry), 1);
        this.#grant();
        reject(
          signal.reason instanceof PerimeterError
            ? signal.reason
            : new PerimeterError('RUN_ABORTED', 'Stopped while waiting for worker slots'),
        );
      };
      this.#waiting.push(entry);
      signal.addEventListener('abort', onAbort, { once: true });
    });
    return this.#releaser(wanted);
  }

  #releaser(weight: number): () => void {
    let released = false;
    return () => {
      if (!released) {
        released = true;
        this.#free += weight;
        this.#grant();
      }
    };
  }

  #grant(): void {
    for (
      let next = this.#waiting[0];
      next !== undefined && next.weight <= this.#free;
      next = this.#waiting[0]
    ) {
      this.#waiting.shift();
      this.#free -= next.weight;
      next.grant();
    }
  }
}

import { sleep } from '../plugin-api/index.ts';

/**
 * A token bucket in front of one profile's store reads (reference/secret-providers.md §7.9):
 * bursts up to `capacity`, then `ratePerSecond`. Callers past the budget wait their turn
 * (reservations, so waiters are served in order) rather than fail.
 */
export class TokenBucket {
  readonly #ratePerSecond: number;
  readonly #capacity: number;
  readonly #clock: () => number;
  #tokens: number;
  #updatedMs: number;

  constructor(ratePerSecond: number, clock: () => number = () => performance.now()) {
    this.#ratePerSecond = ratePerSecond;
    this.#capacity = Math.max(1, ratePerSecond);
    this.#clock = clock;
    this.#tokens = this.#capacity;
    this.#updatedMs = clock();
  }

  /** Takes one token, waiting for it if needed. An aborted wait gives its reservation back. */
  async take(signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    const now = this.#clock();
    const elapsedSeconds = (now - this.#updatedMs) / 1000;
    this.#tokens = Math.min(this.#capacity, this.#tokens + elapsedSeconds * this.#ratePerSecond);
    this.#updatedMs = now;
    this.#tokens -= 1;
    if (this.#tokens >= 0) {
      return;
    }
    try {
      await sleep((-this.#tokens / this.#ratePerSecond) * 1000, { signal });
    } catch (error) {
      this.#tokens += 1;
      throw error;
    }
  }
}

/** Bounds of the waits between failed calls. */
export interface BackoffSettings {
  readonly baseMs: number;
  readonly maxMs: number;
}

/** A `Retry-After` longer than this is cut: a misbehaving server must not silence the agent. */
export const MAX_RETRY_AFTER_MS = 15 * 60 * 1000;

/** Why the next wait is being computed. */
export interface FailureHint {
  /** The server's `Retry-After`: the wait is at least this long (up to 15 minutes). */
  readonly retryAfterMs?: number | undefined;
  /** The credentials were refused (401/403): retry slowly, the token may be rotated meanwhile. */
  readonly slow?: boolean;
}

/**
 * Backoff of one loop: "full jitter" exponential (AWS Architecture Blog, "Exponential Backoff
 * and Jitter"). After the n-th consecutive failure the wait is uniform in
 * [0, min(maxMs, baseMs·2^(n-1))], so a fleet of agents that lost the control plane together
 * spreads its reconnects instead of arriving in lockstep. A success resets it.
 */
export class Backoff {
  readonly #settings: BackoffSettings;
  readonly #random: () => number;
  #failures = 0;

  constructor(settings: BackoffSettings, random: () => number = Math.random) {
    this.#settings = settings;
    this.#random = random;
  }

  /** Consecutive failures so far. */
  get failures(): number {
    return this.#failures;
  }

  /** Counts a failure and returns how long to wait before the next call. */
  next(hint: FailureHint = {}): number {
    this.#failures += 1;
    const { baseMs, maxMs } = this.#settings;
    const jittered =
      hint.slow === true
        ? // Half to all of the ceiling: slow, but still spread.
          maxMs / 2 + this.#random() * (maxMs / 2)
        : this.#random() * Math.min(maxMs, baseMs * 2 ** Math.min(this.#failures - 1, 30));
    const floorMs = Math.min(hint.retryAfterMs ?? 0, MAX_RETRY_AFTER_MS);
    return Math.floor(Math.max(jittered, floorMs));
  }

  /** Forgets the failures after a success. */
  reset(): void {
    this.#failures = 0;
  }
}

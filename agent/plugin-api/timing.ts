/**
 * The one timing toolkit of Perimeter: a clock, a backoff policy, an abortable sleep and "wait at
 * most N ms". Everything that waits (HTTP retries, the control-plane link, the queue, Redis
 * reconnects, connectors re-opening a stream) uses these, so that a test controls time in one
 * place: pass a {@link Clock} and a `random`, or use fake timers, which the default clock obeys.
 */

/** Where time comes from. */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Calls `callback` after `delayMs`; the returned function cancels it. */
  schedule(callback: () => void, delayMs: number): () => void;
}

/** The process clock: `Date.now` and the global timers (which fake timers replace). */
export const systemClock: Clock = {
  now: () => Date.now(),
  schedule: (callback, delayMs) => {
    const timer = setTimeout(callback, delayMs);
    return () => {
      clearTimeout(timer);
    };
  },
};

/** Bounds of an exponential backoff, in ms. */
export interface BackoffPolicy {
  /** Ceiling of the first wait. */
  readonly baseMs: number;
  /** Largest ceiling of any wait. */
  readonly maxMs: number;
}

/** What else shapes one wait of a backoff. */
export interface BackoffHint {
  /** The server's `Retry-After` in ms: the wait is at least this long (capped by `maxFloorMs`). */
  readonly retryAfterMs?: number | undefined;
  /** Any other lower bound of the wait (e.g. half the ceiling after refused credentials). */
  readonly floorMs?: number | undefined;
}

/** A `Retry-After` longer than this is cut: a misbehaving server must not silence a loop. */
export const MAX_RETRY_AFTER_FLOOR_MS = 15 * 60_000;

/**
 * "Full jitter" exponential backoff: after the n-th consecutive failure (`attempt`, from 1) the
 * wait is uniform in [0, min(maxMs, baseMs·2^(n-1))], so that many clients failing together
 * spread out instead of retrying in lockstep. `Retry-After` and `floorMs` are floors: jitter may
 * only lengthen them.
 */
export function backoffDelayMs(
  policy: BackoffPolicy,
  attempt: number,
  hint: BackoffHint = {},
  random: () => number = Math.random,
): number {
  const exponent = Math.min(Math.max(attempt, 1) - 1, 30);
  const ceilingMs = Math.min(policy.maxMs, policy.baseMs * 2 ** exponent);
  const jitteredMs = Math.floor(random() * ceilingMs);
  const retryAfterMs = Math.min(hint.retryAfterMs ?? 0, MAX_RETRY_AFTER_FLOOR_MS);
  return Math.max(jitteredMs, retryAfterMs, Math.floor(hint.floorMs ?? 0));
}

/** A backoff that counts consecutive failures itself; a success resets it. */
export class Backoff {
  readonly #policy: BackoffPolicy;
  readonly #random: () => number;
  #failures = 0;

  constructor(policy: BackoffPolicy, random: () => number = Math.random) {
    this.#policy = policy;
    this.#random = random;
  }

  /** Consecutive failures so far. */
  get failures(): number {
    return this.#failures;
  }

  /** Counts a failure and returns how long to wait before the next try, in ms. */
  next(hint: BackoffHint = {}): number {
    this.#failures += 1;
    return backoffDelayMs(this.#policy, this.#failures, hint, this.#random);
  }

  /** Forgets the failures after a success. */
  reset(): void {
    this.#failures = 0;
  }
}

/** Options of {@link sleep} and {@link waitAtMost}. */
export interface WaitOptions {
  /** Ends the wait at once: the promise rejects with the signal's reason. */
  readonly signal?: AbortSignal | undefined;
  readonly clock?: Clock | undefined;
}

/** Resolves after `delayMs`; rejects with the signal's reason as soon as it aborts. */
export function sleep(delayMs: number, options: WaitOptions = {}): Promise<void> {
  const { signal, clock = systemClock } = options;
  if (signal?.aborted === true) {
    return Promise.reject(signal.reason as Error);
  }
  return new Promise<void>((resolve, reject) => {
    const onAbort = (): void => {
      cancel();
      reject(signal?.reason as Error);
    };
    const cancel = clock.schedule(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, delayMs);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** What {@link waitAtMost} found: the value, or that the time ran out first. */
export type WaitOutcome<T> =
  { readonly timedOut: false; readonly value: T } | { readonly timedOut: true };

/**
 * Waits for `promise` at most `timeoutMs`. The promise is not cancelled when time runs out: it
 * runs on and its late result (or rejection) is dropped, so give up only on work that may be
 * abandoned (a Redis command across a reconnect, an SDK call without a signal). A rejection
 * before the deadline rejects; an abort of `signal` rejects with its reason.
 */
export function waitAtMost<T>(
  promise: Promise<T>,
  timeoutMs: number,
  options: WaitOptions = {},
): Promise<WaitOutcome<T>> {
  const { signal, clock = systemClock } = options;
  if (signal?.aborted === true) {
    promise.catch(() => undefined);
    return Promise.reject(signal.reason as Error);
  }
  return new Promise<WaitOutcome<T>>((resolve, reject) => {
    let settled = false;
    const finish = (): boolean => {
      if (settled) {
        return false;
      }
      settled = true;
      cancel();
      signal?.removeEventListener('abort', onAbort);
      return true;
    };
    const onAbort = (): void => {
      if (finish()) {
        reject(signal?.reason as Error);
      }
    };
    const cancel = clock.schedule(() => {
      if (finish()) {
        resolve({ timedOut: true });
      }
    }, timeoutMs);
    signal?.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        if (finish()) {
          resolve({ timedOut: false, value });
        }
      },
      (error: unknown) => {
        if (finish()) {
          // Passed through as thrown, like `await` would.
          // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors
          reject(error);
        }
      },
    );
  });
}

/**
 * Runs one object's work for at most `timeoutMs`: the work gets a signal that aborts when time
 * runs out or `options.signal` aborts, so its requests stop too. Outcome `timedOut: true` when
 * the time ran out first (the connector then yields a `skipped` event with reason `timeout` and
 * goes on); an abort of `options.signal` rejects with its reason; the work's own error rejects.
 * Built on {@link waitAtMost}, so fake timers and an injected clock control it.
 */
export async function runAtMost<T>(
  work: (signal: AbortSignal) => Promise<T>,
  timeoutMs: number,
  options: WaitOptions = {},
): Promise<WaitOutcome<T>> {
  const controller = new AbortController();
  const parent = options.signal;
  const onAbort = (): void => {
    controller.abort(parent?.reason);
  };
  parent?.addEventListener('abort', onAbort, { once: true });
  try {
    const running =
      parent?.aborted === true ? Promise.reject(parent.reason as Error) : work(controller.signal);
    const outcome = await waitAtMost(running, timeoutMs, options);
    if (outcome.timedOut) {
      controller.abort(new Error(`Timed out after ${String(timeoutMs)} ms`));
      running.catch(() => undefined);
    }
    return outcome;
  } finally {
    parent?.removeEventListener('abort', onAbort);
  }
}

/**
 * Streams one object's items for at most `timeoutMs` of the source's time, where
 * {@link runAtMost} would hold them all until the object is done: only the time spent waiting
 * for the next item counts, not the time the caller holds one (a slow catalog push does not
 * make a source object time out). The items get a signal that aborts when the time runs out or
 * `options.signal` aborts, so the reads stop too; the return value says whether the time ran out
 * (what was yielded before stays yielded: the connector decides what that means for the
 * object). An abort of `options.signal` rejects with its reason; the items' own error rejects.
 * Memory stays that of one item however large the object.
 */
export async function* streamAtMost<T>(
  items: (signal: AbortSignal) => AsyncIterable<T>,
  timeoutMs: number,
  options: WaitOptions = {},
): AsyncGenerator<T, { readonly timedOut: boolean }> {
  const { clock = systemClock } = options;
  const controller = new AbortController();
  const parent = options.signal;
  const onAbort = (): void => {
    controller.abort(parent?.reason);
  };
  parent?.addEventListener('abort', onAbort, { once: true });
  let iterator: AsyncIterator<T> | undefined;
  let finished = false;
  let pending: Promise<IteratorResult<T>> | undefined;
  try {
    parent?.throwIfAborted();
    iterator = items(controller.signal)[Symbol.asyncIterator]();
    let leftMs = timeoutMs;
    for (;;) {
      const startedMs = clock.now();
      pending = iterator.next();
      const outcome = await waitAtMost(pending, Math.max(0, leftMs), options);
      if (outcome.timedOut) {
        controller.abort(new Error(`Timed out after ${String(timeoutMs)} ms`));
        return { timedOut: true };
      }
      pending = undefined;
      leftMs -= clock.now() - startedMs;
      if (outcome.value.done === true) {
        finished = true;
        return { timedOut: false };
      }
      yield outcome.value.value;
    }
  } finally {
    parent?.removeEventListener('abort', onAbort);
    if (pending !== undefined || controller.signal.aborted) {
      // A read is in flight (timed out, or the run aborted): it ends with the abort; closing the
      // generator waits for it, which a read that ignores its signal would make endless.
      pending?.catch(() => undefined);
      void iterator?.return?.().catch(() => undefined);
    } else if (!finished) {
      // The caller stopped early, or a read failed: close the items' generator.
      await iterator?.return?.().catch(() => undefined);
    }
  }
}

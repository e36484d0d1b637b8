import type { Metrics } from '../metrics/metrics.ts';
import { sleep, systemClock } from '../plugin-api/index.ts';
import type { Clock, RateLimit } from '../plugin-api/index.ts';

/**
 * A source's request budget as the HTTP client sees it: awaited before every attempt (retries
 * too), told about every 429. One per run, bound to its connector and rate; the bucket itself is
 * per source (connector + endpoint origin), shared by every run that reaches it.
 */
export interface RequestBudget {
  /** Waits until the source's bucket allows one more request; rejects when `signal` aborts. */
  take(url: URL, signal: AbortSignal): Promise<void>;
  /** The source answered 429: slows every run on it (see {@link BudgetStore.shrink}). */
  rateLimited(url: URL, retryAfterMs: number | undefined): Promise<void>;
}

/** What a reservation found: how long to wait before sending, and the rate now in force. */
export interface Reservation {
  readonly waitMs: number;
  readonly requestsPerSecond: number;
}

/** Where the buckets live: this process (one-shot runs) or Redis (every replica). */
export interface BudgetStore {
  /**
   * Takes one token of `source`'s bucket, going into debt when none is left: the caller waits
   * `waitMs` and then sends, so waiters are served in order without polling. `again`: the
   * caller's previous token went unused (it woke too late to send on time), so that token is
   * given back in the same step: a late request costs the bucket nothing.
   */
  reserve(source: string, limit: RateLimit, again?: boolean): Promise<Reservation>;
  /**
   * After a 429: no token for `retryAfterMs` (every waiter and replica included), then the
   * rate runs at {@link SLOWED_RATE_FACTOR} for {@link SLOWDOWN_MS} after the last 429.
   */
  shrink(source: string, limit: RateLimit, retryAfterMs: number): Promise<void>;
}

/** Share of the rate left while a source is slowed after a 429. */
export const SLOWED_RATE_FACTOR = 0.5;
/** How long a source stays slowed after its last 429 (on top of its Retry-After). */
export const SLOWDOWN_MS = 30_000;
/** The pause after a 429 without Retry-After. */
export const DEFAULT_RETRY_AFTER_MS = 1_000;

/** A budget's identity: the connector and the origin it reaches, e.g. `cyera https://api.cyera.io`. */
export function sourceOf(connector: string, url: URL): string {
  return `${connector} ${url.origin}`;
}

/** What a run's budget is made of. */
export interface RequestBudgetOptions {
  readonly store: BudgetStore;
  readonly connector: string;
  readonly limit: RateLimit;
  readonly metrics?: Metrics | undefined;
  readonly clock?: Clock;
}

/** The budget of one run: reserves in the store, sleeps the wait, counts it per source host. */
export function createRequestBudget(options: RequestBudgetOptions): RequestBudget {
  const { store, connector, limit, metrics, clock = systemClock } = options;
  return {
    take: async (url, signal) => {
      const labels = { connector, source: url.host };
      let waitedMs = 0;
      for (let again = false; ; again = true) {
        signal.throwIfAborted();
        const askedMs = clock.now();
        const reservation = await store.reserve(sourceOf(connector, url), limit, again);
        if (reservation.waitMs > 0) {
          waitedMs += reservation.waitMs;
          await sleep(reservation.waitMs, { signal, clock });
        }
        // The token is for a moment: a request that would go later than that (a busy event
        // loop, a slow round trip to the bucket) could crowd a later second, so it gives the
        // token back and takes a new one. One draw however many times it asked. A token taken
        // again without a wait is as fresh as the round trip to the bucket allows: it goes.
        const lateMs = clock.now() - (askedMs + Math.max(0, reservation.waitMs));
        const fresh = again && reservation.waitMs <= 0;
        if (fresh || lateMs <= lateToleranceMs(reservation.requestsPerSecond)) {
          metrics?.sourceBudgetRequestsPerSecond.set(labels, reservation.requestsPerSecond);
          metrics?.sourceBudgetWaitMs.observe(labels, waitedMs);
          if (waitedMs > 0) {
            metrics?.sourceBudgetWaitsTotal.inc(labels);
          }
          return;
        }
      }
    },
    rateLimited: async (url, retryAfterMs) => {
      metrics?.sourceRateLimitedTotal.inc({ connector, source: url.host });
      await store.shrink(sourceOf(connector, url), limit, retryAfterMs ?? DEFAULT_RETRY_AFTER_MS);
    },
  };
}

/**
 * How late a reserved request may still go: just under one token's interval. Sends each moved
 * later by less than that add under one request to any window (a window of the bucket's sends
 * holds at most burst + rate × (its length + the delay)), so every second keeps to rate + burst.
 */
export function lateToleranceMs(requestsPerSecond: number): number {
  return requestsPerSecond > 0 ? (0.9 * 1000) / requestsPerSecond : Number.POSITIVE_INFINITY;
}

interface Bucket {
  tokens: number;
  updatedMs: number;
  slowedUntilMs: number;
}

/**
 * The buckets of this process, for the one-shot CLI (`perimeter run`, no Redis). Same arithmetic
 * as the Redis script (`agent/queue/budget-store.ts`).
 */
export function createLocalBudgetStore(clock: Clock = systemClock): BudgetStore {
  const buckets = new Map<string, Bucket>();
  const refill = (source: string, limit: RateLimit): { bucket: Bucket; rate: number } => {
    const now = clock.now();
    const bucket = buckets.get(source) ?? { tokens: limit.burst, updatedMs: now, slowedUntilMs: 0 };
    buckets.set(source, bucket);
    const rate = effectiveRate(limit, now < bucket.slowedUntilMs);
    const elapsedMs = Math.max(0, now - bucket.updatedMs);
    bucket.tokens = Math.min(limit.burst, bucket.tokens + (elapsedMs * rate) / 1000);
    bucket.updatedMs = now;
    return { bucket, rate };
  };
  return {
    reserve: (source, limit, again = false) => {
      const { bucket, rate } = refill(source, limit);
      bucket.tokens = (again ? Math.min(limit.burst, bucket.tokens + 1) : bucket.tokens) - 1;
      const waitMs = bucket.tokens >= 0 ? 0 : Math.ceil((-bucket.tokens * 1000) / rate);
      return Promise.resolve({ waitMs, requestsPerSecond: rate });
    },
    shrink: (source, limit, retryAfterMs) => {
      const { bucket } = refill(source, limit);
      bucket.slowedUntilMs = clock.now() + retryAfterMs + SLOWDOWN_MS;
      const slowed = effectiveRate(limit, true);
      bucket.tokens = Math.min(bucket.tokens, (-retryAfterMs * slowed) / 1000);
      return Promise.resolve();
    },
  };
}

/** The rate in force: the declared one, or its reduced share while the source is slowed. */
export function effectiveRate(limit: RateLimit, slowed: boolean): number {
  return slowed ? limit.requestsPerSecond * SLOWED_RATE_FACTOR : limit.requestsPerSecond;
}

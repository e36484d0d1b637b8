import type { FetchedSecret, PerimeterError } from '../plugin-api/index.ts';
import type { SecretsSettings } from './settings.ts';

/** The settings the cache policy reads. */
export type CachePolicy = Pick<
  SecretsSettings,
  'softTtlSeconds' | 'hardTtlSeconds' | 'pinnedTtlSeconds' | 'negativeTtlSeconds' | 'maxEntries'
>;

/** When a fetched value must be refreshed, stops being fresh, and stops being servable. */
export interface Lifetime {
  /** After this, a hit is served and a background refresh starts (80% of the soft TTL). */
  readonly refreshAtMs: number;
  /** After this, a hit waits for a new read; the value is only a fallback. */
  readonly softExpiresAtMs: number;
  /** After this, the value is dropped: not even served when the store fails. */
  readonly hardExpiresAtMs: number;
}

/** What decides a value's lifetime besides the policy. */
export interface LifetimeInput {
  readonly fetchedAtMs: number;
  /** A pinned version never changes: cached for `pinnedTtlSeconds`. */
  readonly pinned: boolean;
  /** Lease of a dynamic secret: the soft TTL is at most 80% of it, and it is never served after. */
  readonly leaseSeconds: number | undefined;
  /** `?max-age=` or the profile's `maxAgeSeconds`: the soft TTL of a floating version. */
  readonly maxAgeSeconds: number | undefined;
}

const REFRESH_AHEAD_FRACTION = 0.8;
const LEASE_FRACTION = 0.8;
const JITTER = 0.1;
const SWEEP_INTERVAL_MS = 60_000;

/**
 * The lifetime of a freshly read value (reference/secret-providers.md §7). `random` in [0, 1)
 * spreads soft TTLs by ±10% so that secrets read together are not all refreshed together.
 */
export function valueLifetime(
  input: LifetimeInput,
  policy: CachePolicy,
  random: () => number,
): Lifetime {
  const jitter = 1 - JITTER + 2 * JITTER * random();
  let softSeconds = input.pinned
    ? policy.pinnedTtlSeconds
    : (input.maxAgeSeconds ?? policy.softTtlSeconds) * jitter;
  let hardSeconds = input.pinned ? softSeconds : Math.max(policy.hardTtlSeconds, softSeconds);
  if (input.leaseSeconds !== undefined && input.leaseSeconds > 0) {
    softSeconds = Math.min(softSeconds, LEASE_FRACTION * input.leaseSeconds);
    hardSeconds = Math.min(hardSeconds, input.leaseSeconds);
  }
  // A pinned version cannot change: nothing to refresh ahead of time.
  const refreshSeconds = input.pinned ? softSeconds : REFRESH_AHEAD_FRACTION * softSeconds;
  return {
    refreshAtMs: input.fetchedAtMs + refreshSeconds * 1000,
    softExpiresAtMs: input.fetchedAtMs + softSeconds * 1000,
    hardExpiresAtMs: input.fetchedAtMs + hardSeconds * 1000,
  };
}

/** A cached payload with the identity of the version it is. */
export interface CachedValue extends Lifetime {
  readonly payload: Buffer;
  readonly versionId: string | undefined;
}

/** What a lookup finds. */
export type Lookup =
  | { readonly state: 'miss' }
  /** Within the soft TTL; `refresh` once past the refresh-ahead point. */
  | { readonly state: 'fresh'; readonly value: CachedValue; readonly refresh: boolean }
  /** Past the soft TTL, within the hard TTL: read again, fall back to it on a transient failure. */
  | { readonly state: 'stale'; readonly value: CachedValue }
  /** An authoritative not found or denied, remembered for `negativeTtlSeconds`. */
  | { readonly state: 'failure'; readonly error: PerimeterError };

type Entry =
  | { readonly kind: 'value'; readonly value: CachedValue }
  | { readonly kind: 'failure'; readonly error: PerimeterError; readonly expiresAtMs: number };

/**
 * A bounded LRU of whole payloads and authoritative failures, by cache key. Payload buffers are
 * zero-filled when they leave (eviction, expiry, replacement, clear). Never persisted.
 */
export class SecretCache {
  readonly #entries = new Map<string, Entry>();
  readonly #policy: CachePolicy;
  readonly #now: () => number;
  #lastSweepMs: number;

  constructor(policy: CachePolicy, now: () => number) {
    this.#policy = policy;
    this.#now = now;
    this.#lastSweepMs = now();
  }

  get size(): number {
    return this.#entries.size;
  }

  lookup(key: string): Lookup {
    this.#sweepNowAndThen();
    const entry = this.#entries.get(key);
    if (entry === undefined) {
      return { state: 'miss' };
    }
    const now = this.#now();
    if (isExpired(entry, now)) {
      this.delete(key);
      return { state: 'miss' };
    }
    // Re-insert: Map order is the LRU order, oldest first.
    this.#entries.delete(key);
    this.#entries.set(key, entry);
    if (entry.kind === 'failure') {
      return { state: 'failure', error: entry.error };
    }
    const { value } = entry;
    if (now >= value.softExpiresAtMs) {
      return { state: 'stale', value };
    }
    return { state: 'fresh', value, refresh: now >= value.refreshAtMs };
  }

  /** Caches a read payload (the cache owns the buffer from now on). */
  storeValue(key: string, fetched: FetchedSecret, lifetime: Lifetime): CachedValue {
    const value: CachedValue = {
      payload: fetched.value,
      versionId: fetched.versionId,
      ...lifetime,
    };
    this.#set(key, { kind: 'value', value });
    return value;
  }

  /** Remembers an authoritative failure, replacing (and wiping) any cached value. */
  storeFailure(key: string, error: PerimeterError): void {
    if (this.#policy.negativeTtlSeconds === 0) {
      this.delete(key);
      return;
    }
    const expiresAtMs = this.#now() + this.#policy.negativeTtlSeconds * 1000;
    this.#set(key, { kind: 'failure', error, expiresAtMs });
  }

  delete(key: string): void {
    const entry = this.#entries.get(key);
    this.#entries.delete(key);
    wipe(entry);
  }

  clear(): void {
    for (const entry of this.#entries.values()) {
      wipe(entry);
    }
    this.#entries.clear();
  }

  #set(key: string, entry: Entry): void {
    const previous = this.#entries.get(key);
    this.#entries.delete(key);
    if (
      previous?.kind === 'value' &&
      entry.kind === 'value' &&
      previous.value.payload !== entry.value.payload
    ) {
      wipe(previous);
    } else if (previous?.kind === 'value' && entry.kind === 'failure') {
      wipe(previous);
    }
    this.#entries.set(key, entry);
    for (const oldest of this.#entries.keys()) {
      if (this.#entries.size <= this.#policy.maxEntries) {
        break;
      }
      this.delete(oldest);
    }
  }

  #sweepNowAndThen(): void {
    const now = this.#now();
    if (now - this.#lastSweepMs < SWEEP_INTERVAL_MS) {
      return;
    }
    this.#lastSweepMs = now;
    for (const [key, entry] of [...this.#entries]) {
      if (isExpired(entry, now)) {
        this.delete(key);
      }
    }
  }
}

function isExpired(entry: Entry, now: number): boolean {
  return entry.kind === 'failure' ? now >= entry.expiresAtMs : now >= entry.value.hardExpiresAtMs;
}

function wipe(entry: Entry | undefined): void {
  if (entry?.kind === 'value') {
    entry.value.payload.fill(0);
  }
}

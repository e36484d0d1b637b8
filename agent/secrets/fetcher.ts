import type { Metrics } from '../metrics/metrics.ts';
import { isPerimeterError } from '../plugin-api/index.ts';
import type { CanonicalSecretRef, Logger, PerimeterError } from '../plugin-api/index.ts';
import { valueLifetime } from './cache.ts';
import type { SecretCache } from './cache.ts';
import type { StoreClients } from './clients.ts';
import type { ResolvedProfile } from './profiles.ts';
import { readWithRetry } from './read.ts';
import type { ReadContext } from './read.ts';
import type { SecretsSettings } from './settings.ts';
import { SingleFlight } from './single-flight.ts';
import { TokenBucket } from './token-bucket.ts';

/** One payload to get: a reference after parsing, canonicalisation and the allowlists. */
export interface PayloadRequest {
  /** (profile, scheme, canonical locator, version): the cache and single-flight key. */
  readonly key: string;
  /** The canonical reference, for logs and error context. */
  readonly display: string;
  readonly profile: ResolvedProfile;
  readonly canonical: CanonicalSecretRef;
  /** `?max-age=` of the reference. */
  readonly maxAgeSeconds: number | undefined;
}

/** How a payload was obtained. */
export type PayloadOutcome = 'cached' | 'fetched' | 'stale';

/**
 * A whole payload, lent: a private copy that is zero-filled on the next macrotask, so it must be
 * used (decoded, selected, copied) synchronously by whoever awaited it.
 */
export interface Payload {
  readonly bytes: Buffer;
  readonly outcome: PayloadOutcome;
}

/** What the fetcher is built from. */
export interface PayloadFetcherOptions {
  readonly settings: SecretsSettings;
  readonly cache: SecretCache;
  readonly clients: StoreClients;
  readonly logger: Logger;
  readonly metrics: Metrics | undefined;
  readonly now: () => number;
  readonly random: () => number;
}

/**
 * The caching policy of reference/secret-providers.md §7 around store reads: fresh hits,
 * refresh-ahead in the background, single-flight misses, stale-if-error within the hard TTL
 * (never after an authoritative answer), negative caching, forced refresh.
 */
export class PayloadFetcher {
  readonly #options: PayloadFetcherOptions;
  readonly #flights = new SingleFlight<Buffer>();
  readonly #buckets = new Map<string, TokenBucket>();

  constructor(options: PayloadFetcherOptions) {
    this.#options = options;
  }

  async get(request: PayloadRequest, signal: AbortSignal, forceRefresh: boolean): Promise<Payload> {
    if (!forceRefresh) {
      const hit = this.#options.cache.lookup(request.key);
      switch (hit.state) {
        case 'failure':
          throw hit.error;
        case 'fresh':
          if (hit.refresh) {
            this.#refreshInBackground(request);
          }
          return { bytes: lend(hit.value.payload), outcome: 'cached' };
        case 'stale':
          return this.#readOrStale(request, signal);
        case 'miss':
          break;
      }
    }
    const bytes = await this.#read(request, signal, forceRefresh ? 'force' : 'read');
    return { bytes, outcome: 'fetched' };
  }

  /** Aborts every read in flight (shutdown). */
  abortAll(reason: unknown): void {
    this.#flights.abortAll(reason);
  }

  async #readOrStale(request: PayloadRequest, signal: AbortSignal): Promise<Payload> {
    try {
      return { bytes: await this.#read(request, signal, 'read'), outcome: 'fetched' };
    } catch (error) {
      // Only a transient failure may fall back; an authoritative one has dropped the entry.
      const hit = this.#options.cache.lookup(request.key);
      if (signal.aborted || !isPerimeterError(error) || !error.retryable) {
        throw error;
      }
      if (hit.state === 'fresh') {
        // Another read succeeded meanwhile (a forced refresh): serve its value.
        return { bytes: lend(hit.value.payload), outcome: 'cached' };
      }
      if (hit.state !== 'stale') {
        throw error;
      }
      this.#options.logger.warn(
        {
          ref: request.display,
          profile: request.profile.name,
          code: error.code,
          staleForMs: Math.round(this.#options.now() - hit.value.softExpiresAtMs),
        },
        'secret store unavailable, serving the cached value',
      );
      return { bytes: lend(hit.value.payload), outcome: 'stale' };
    }
  }

  #refreshInBackground(request: PayloadRequest): void {
    this.#read(request, undefined, 'read').catch((error: unknown) => {
      this.#options.logger.warn(
        {
          ref: request.display,
          profile: request.profile.name,
          code: isPerimeterError(error) ? error.code : 'INTERNAL',
        },
        'secret background refresh failed',
      );
    });
  }

  /** Joins or starts the read of `request`; forced reads never join a read started before them. */
  #read(
    request: PayloadRequest,
    signal: AbortSignal | undefined,
    kind: 'read' | 'force',
  ): Promise<Buffer> {
    const key = kind === 'force' ? `${request.key}\u0000force` : request.key;
    return this.#flights.run(
      key,
      (flightSignal) => this.#readAndStore(request, flightSignal),
      signal,
    );
  }

  async #readAndStore(request: PayloadRequest, signal: AbortSignal): Promise<Buffer> {
    const { cache, clients, settings, now, random } = this.#options;
    const { profile, canonical } = request;
    try {
      const client = clients.get(profile);
      const context = this.#readContext(request, client);
      const fetched = await clients.within(profile.name, () =>
        readWithRetry(canonical, context, signal),
      );
      const lifetime = valueLifetime(
        {
          fetchedAtMs: now(),
          pinned: canonical.pinned,
          leaseSeconds: fetched.leaseSeconds,
          maxAgeSeconds: request.maxAgeSeconds ?? profile.maxAgeSeconds,
        },
        settings,
        random,
      );
      return lend(cache.storeValue(request.key, fetched, lifetime).payload);
    } catch (error) {
      if (!signal.aborted && isPerimeterError(error) && !error.retryable) {
        this.#forget(request.key, error);
      }
      throw error;
    }
  }

  /** After an authoritative answer the old value is never served again. */
  #forget(key: string, error: PerimeterError): void {
    if (error.code === 'SECRET_NOT_FOUND' || error.code === 'SECRET_ACCESS_DENIED') {
      this.#options.cache.storeFailure(key, error);
    } else {
      this.#options.cache.delete(key);
    }
  }

  #readContext(request: PayloadRequest, client: ReadContext['client']): ReadContext {
    const { settings, metrics, logger } = this.#options;
    const store = request.profile.store.scheme;
    let bucket = this.#buckets.get(request.profile.name);
    if (bucket === undefined) {
      bucket = new TokenBucket(settings.requestsPerSecond);
      this.#buckets.set(request.profile.name, bucket);
    }
    return {
      client,
      bucket,
      settings,
      ref: request.display,
      onAttempt: (outcome) => metrics?.secretFetchesTotal.inc({ store, outcome }),
      onRetry: (error, attempt, delayMs) => {
        metrics?.retriesTotal.inc({ component: 'secrets', reason: 'unavailable' });
        logger.debug(
          {
            ref: request.display,
            profile: request.profile.name,
            code: error.code,
            attempt,
            delayMs,
          },
          'secret store unavailable, retrying',
        );
      },
    };
  }
}

/** A private copy of cached bytes, wiped once the awaiting callers have used it. */
function lend(payload: Buffer): Buffer {
  const copy = Buffer.from(payload);
  setImmediate(() => copy.fill(0));
  return copy;
}

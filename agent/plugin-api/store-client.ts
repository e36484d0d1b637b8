import { raceAbort } from './abort.ts';
import { PerimeterError } from './errors.ts';
import type { Logger } from './logger.ts';
import type {
  CanonicalSecretRef,
  FetchedSecret,
  SecretRef,
  SecretStoreClient,
  SecretStoreDeps,
} from './secrets.ts';
import { storeClosedError } from './store-errors.ts';

/**
 * The SDK-backed half of a store client: what {@link createLazyStoreClient} loads on first use.
 * It only talks to the store; opening, closing, logging and error mapping are done around it.
 */
export interface SecretStoreBackend {
  /** Reads the whole payload of a canonical reference. Honours `signal`. */
  read(ref: CanonicalSecretRef, signal: AbortSignal): Promise<FetchedSecret>;
  /** Cheap authenticated reachability check (obtaining credentials, a token lookup). */
  probe(signal: AbortSignal): Promise<void>;
  /** Releases SDK clients and sockets, revokes login-derived tokens. Called once. */
  close(): Promise<void>;
}

/** What a store gives {@link createLazyStoreClient}. */
export interface LazyStoreClientOptions {
  /** The store's scheme, for logs, messages and context. */
  readonly scheme: string;
  readonly deps: SecretStoreDeps;
  /** Validates a reference (no network, no SDK): the store's locator rules and allowlists. */
  canonicalize(ref: SecretRef): CanonicalSecretRef;
  /**
   * Builds the backend, typically `(await import('./client.ts')).createBackend(…)`, so that the
   * SDK is loaded only by a process that reads from this store. `lifetime` aborts on close.
   * A failed load is retried by the next call.
   */
  load(lifetime: AbortSignal): Promise<SecretStoreBackend>;
  /**
   * Maps what the SDK threw to the store contract (`locator` is `probe` for probes). Must pass a
   * PerimeterError through unchanged.
   */
  mapError(error: unknown, locator: string): PerimeterError;
  /** Bound of `close()` (waiting for a load in flight, then the backend's close). */
  readonly closeTimeoutMs?: number;
}

const DEFAULT_CLOSE_TIMEOUT_MS = 3_000;

/**
 * The client of one store profile, with the scaffolding every SDK-backed store shares: no SDK
 * is loaded and no network call made before the first `fetch` or `probe`; the backend is built
 * once for every caller; each read is logged at debug as `secret read` with locator, version,
 * duration and outcome (never the value); a caller's abort rejects at once with the signal's
 * reason; SDK errors go through the store's map; `close` is idempotent and bounded, and every
 * later call fails with a final SECRET_UNAVAILABLE.
 */
export function createLazyStoreClient(options: LazyStoreClientOptions): SecretStoreClient {
  return new LazyStoreClient(options);
}

class LazyStoreClient implements SecretStoreClient {
  readonly #options: LazyStoreClientOptions;
  readonly #logger: Logger;
  readonly #lifetime = new AbortController();
  #backend: Promise<SecretStoreBackend> | undefined;
  #closing: Promise<void> | undefined;

  constructor(options: LazyStoreClientOptions) {
    this.#options = options;
    this.#logger = options.deps.logger.child({
      store: options.scheme,
      profile: options.deps.profileName,
    });
  }

  canonicalize(ref: SecretRef): CanonicalSecretRef {
    return this.#options.canonicalize(ref);
  }

  async fetch(
    ref: CanonicalSecretRef,
    { signal }: { readonly signal: AbortSignal },
  ): Promise<FetchedSecret> {
    const started = performance.now();
    let outcome = 'ok';
    try {
      const backend = await this.#open(signal);
      return await raceAbort(backend.read(ref, signal), signal);
    } catch (error) {
      if (signal.aborted) {
        outcome = 'aborted';
        throw signal.reason;
      }
      const failure = this.#options.mapError(error, ref.locator);
      outcome = failure.code;
      throw failure;
    } finally {
      const durationMs = Math.round(performance.now() - started);
      this.#logger.debug(
        { locator: ref.locator, version: ref.version, durationMs, outcome },
        'secret read',
      );
    }
  }

  async probe({ signal }: { readonly signal: AbortSignal }): Promise<void> {
    try {
      const backend = await this.#open(signal);
      await raceAbort(backend.probe(signal), signal);
    } catch (error) {
      throw signal.aborted ? signal.reason : this.#options.mapError(error, 'probe');
    }
  }

  close(): Promise<void> {
    this.#closing ??= this.#shutdown();
    return this.#closing;
  }

  #open(signal: AbortSignal): Promise<SecretStoreBackend> {
    if (this.#closing !== undefined) {
      return Promise.reject(storeClosedError(this.#options.scheme, this.#options.deps.profileName));
    }
    if (this.#backend === undefined) {
      // Built under the client's lifetime, not the caller's signal: one caller giving up must
      // not fail the others waiting for the same backend.
      const pending = this.#options.load(this.#lifetime.signal);
      this.#backend = pending;
      pending.catch(() => {
        if (this.#backend === pending) {
          this.#backend = undefined;
        }
      });
    }
    return raceAbort(this.#backend, signal);
  }

  async #shutdown(): Promise<void> {
    const { scheme } = this.#options;
    this.#lifetime.abort(new PerimeterError('RUN_ABORTED', `The ${scheme} store is closing`));
    const closeBackend = async (): Promise<void> => {
      const backend = await this.#backend?.catch(() => undefined);
      await backend?.close();
    };
    const timeout = AbortSignal.timeout(this.#options.closeTimeoutMs ?? DEFAULT_CLOSE_TIMEOUT_MS);
    try {
      await raceAbort(closeBackend(), timeout);
    } catch {
      // A backend that does not close in time (or fails to) is left to the process exit.
      this.#logger.warn(
        { outcome: timeout.aborted ? 'timeout' : 'failed' },
        'secret store close did not complete',
      );
    }
  }
}

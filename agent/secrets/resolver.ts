import type { Redactor } from '../logging/redactor.ts';
import type { Metrics } from '../metrics/metrics.ts';
import { PerimeterError, SecretValue, isPerimeterError, runAtMost } from '../plugin-api/index.ts';
import type { Logger, SecretStoreDefinition, SecretStoreNetwork } from '../plugin-api/index.ts';
import { SecretCache } from './cache.ts';
import { StoreClients } from './clients.ts';
import { PayloadFetcher } from './fetcher.ts';
import { extractValue } from './payload.ts';
import { resolveProfiles } from './profiles.ts';
import { callStore } from './read.ts';
import type { ResolvedProfile, SecretProfiles } from './profiles.ts';
import type { SecretsSettings } from './settings.ts';
import { TargetFinder } from './target.ts';
import type { Target } from './target.ts';

/** What the resolver is built from. */
export interface SecretResolverOptions {
  readonly stores: readonly SecretStoreDefinition[];
  /** The parsed `secretStores` section; env and file get implicit profiles when absent. */
  readonly profiles: SecretProfiles;
  readonly settings: SecretsSettings;
  readonly network: SecretStoreNetwork;
  readonly redactor: Redactor;
  readonly logger: Logger;
  /** `secretFetchesTotal{store, outcome}` and `retriesTotal{component="secrets"}`. */
  readonly metrics?: Metrics;
  /** The process environment, read by `env://` (agent/config is the one reader of process.env). */
  readonly environment?: Readonly<Record<string, string | undefined>>;
  /** Clock for the cache, in ms (tests). */
  readonly now?: () => number;
  /** Source of the TTL jitter, in [0, 1) (tests). */
  readonly random?: () => number;
}

/** Options of one check. */
export interface CheckOptions {
  /**
   * The connector's inline allowlist (globs over `scheme://canonicalLocator`), for connections
   * given inline by the control plane: a reference must match it as well as its profile's.
   */
  readonly allowRefs?: readonly string[];
}

/** Options of one resolution. */
export interface ResolveOptions extends CheckOptions {
  readonly signal: AbortSignal;
  /** Read from the store even when cached: the source rejected the value (rotation). */
  readonly forceRefresh?: boolean;
}

/** A reference after parsing, canonicalisation and the allowlists: what `check` reports. */
export interface ResolvedRefInfo {
  readonly scheme: string;
  readonly profile: string;
  /** The canonical locator (what the allowlists matched). */
  readonly locator: string;
  readonly version: string | undefined;
  /** The selector as written after `#`. */
  readonly selector?: string;
}

/** A profile as `perimeter check` and /readyz list it. */
export interface SecretProfileInfo {
  readonly name: string;
  readonly scheme: string;
  readonly implicit: boolean;
}

/** Turns secret references into {@link SecretValue}s: the one way the agent reads a secret. */
export interface SecretResolver {
  /** Parses, canonicalises and checks the allowlists. No network. */
  check(ref: string, options?: CheckOptions): ResolvedRefInfo;
  resolve(ref: string, options: ResolveOptions): Promise<SecretValue>;
  /** Resolves a map of name → reference (a connection's credentials), all or nothing. */
  resolveAll(
    refs: Readonly<Record<string, string>>,
    options: ResolveOptions,
  ): Promise<Record<string, SecretValue>>;
  /** Drops the cached payload of a reference, so the next resolution reads the store. */
  invalidate(ref: string): void;
  /** Per-profile probe for readiness and `perimeter check`. */
  probe(profile: string, options: { readonly signal: AbortSignal }): Promise<void>;
  listProfiles(): readonly SecretProfileInfo[];
  /** Aborts reads in flight, wipes the cache and closes every store client. Idempotent. */
  close(): Promise<void>;
}

/**
 * Resolves a reference within `timeoutMs`: for a token read before every call to the control
 * plane or the catalog. The bound is a timer cleared once the value is there (runAtMost), not
 * `AbortSignal.timeout`, which cannot be cleared and would leave a timer per call behind that
 * later builds a DOMException for nobody. SECRET_UNAVAILABLE when the time runs out.
 */
export async function resolveWithin(
  resolver: Pick<SecretResolver, 'resolve'>,
  ref: string,
  timeoutMs: number,
): Promise<SecretValue> {
  const outcome = await runAtMost((signal) => resolver.resolve(ref, { signal }), timeoutMs);
  if (outcome.timedOut) {
    throw new PerimeterError(
      'SECRET_UNAVAILABLE',
      `The secret store did not answer within ${timeoutMs} ms`,
      { context: { timeoutMs } },
    );
  }
  return outcome.value;
}

/** Builds the resolver. No store client is created and no network call made until first use. */
export function createSecretResolver(options: SecretResolverOptions): SecretResolver {
  return new Resolver(options);
}

class Resolver implements SecretResolver {
  readonly #options: SecretResolverOptions;
  readonly #profiles: ReadonlyMap<string, ResolvedProfile>;
  readonly #clients: StoreClients;
  readonly #cache: SecretCache;
  readonly #fetcher: PayloadFetcher;
  readonly #targets: TargetFinder;
  /** References whose value was too short to redact by value: warned once each. */
  readonly #shortWarned = new Set<string>();
  #closing: Promise<void> | undefined;

  constructor(options: SecretResolverOptions) {
    this.#options = options;
    this.#profiles = resolveProfiles(options.profiles, options.stores);
    const now = options.now ?? Date.now;
    this.#cache = new SecretCache(options.settings, now);
    this.#clients = new StoreClients({
      network: options.network,
      redactor: options.redactor,
      logger: options.logger,
      environment: options.environment,
      profileOf: (ref) => this.#targets.parse(ref).profile,
      resolve: (ref, signal) => this.resolve(ref, { signal }),
    });
    this.#targets = new TargetFinder(options.stores, this.#profiles, this.#clients);
    this.#fetcher = new PayloadFetcher({
      settings: options.settings,
      cache: this.#cache,
      clients: this.#clients,
      logger: options.logger,
      metrics: options.metrics,
      now,
      random: options.random ?? Math.random,
    });
  }

  check(ref: string, options: CheckOptions = {}): ResolvedRefInfo {
    const target = this.#targets.find(ref, options.allowRefs);
    const { selector } = target.ref;
    return {
      scheme: target.ref.scheme,
      profile: target.profile.name,
      locator: target.canonical.locator,
      version: target.canonical.version,
      ...(selector === undefined
        ? {}
        : { selector: selector.kind === 'key' ? selector.key : selector.pointer }),
    };
  }

  async resolve(ref: string, options: ResolveOptions): Promise<SecretValue> {
    this.#assertOpen();
    options.signal.throwIfAborted();
    const target = this.#targets.find(ref, options.allowRefs);
    const startedMs = performance.now();
    const log = (outcome: string): void => {
      const durationMs = Math.round(performance.now() - startedMs);
      this.#options.logger.debug(
        { ref: target.display, profile: target.profile.name, outcome, durationMs },
        'secret resolved',
      );
    };
    try {
      const payload = await this.#fetcher.get(
        target,
        options.signal,
        options.forceRefresh === true,
      );
      const value = this.#reveal(target, payload.bytes);
      if (payload.outcome !== 'fetched') {
        this.#options.metrics?.secretFetchesTotal.inc({
          store: target.ref.scheme,
          outcome: payload.outcome,
        });
      }
      log(payload.outcome);
      return value;
    } catch (error) {
      log(isPerimeterError(error) ? error.code : 'error');
      throw error;
    }
  }

  async resolveAll(
    refs: Readonly<Record<string, string>>,
    options: ResolveOptions,
  ): Promise<Record<string, SecretValue>> {
    const entries = Object.entries(refs);
    // Every reference is checked before any is read: a bad one costs no network call.
    for (const [name, ref] of entries) {
      try {
        this.#targets.find(ref, options.allowRefs);
      } catch (error) {
        throw namedError(error, name);
      }
    }
    const failed = new AbortController();
    const signal = AbortSignal.any([options.signal, failed.signal]);
    let firstError: unknown;
    const results = await Promise.allSettled(
      entries.map(async ([name, ref]) => {
        try {
          return [name, await this.resolve(ref, { ...options, signal })] as const;
        } catch (error) {
          if (firstError === undefined) {
            firstError = namedError(error, name);
            failed.abort(firstError);
          }
          throw error;
        }
      }),
    );
    const values = results.flatMap((result) =>
      result.status === 'fulfilled' ? [result.value] : [],
    );
    if (values.length !== entries.length) {
      for (const [, value] of values) {
        value.destroy();
      }
      throw options.signal.aborted ? options.signal.reason : firstError;
    }
    return Object.fromEntries(values);
  }

  invalidate(ref: string): void {
    this.#cache.delete(this.#targets.find(ref, undefined).key);
  }

  async probe(profileName: string, options: { readonly signal: AbortSignal }): Promise<void> {
    this.#assertOpen();
    const profile = this.#profiles.get(profileName);
    if (profile === undefined) {
      throw new PerimeterError(
        'SECRET_INVALID_REF',
        `No secret store profile "${profileName}" is configured`,
        {
          context: { profile: profileName },
        },
      );
    }
    const client = this.#clients.get(profile);
    if (client.probe === undefined) {
      return;
    }
    const probe = client.probe.bind(client);
    await this.#clients.within(profileName, () =>
      callStore(
        (signal) => probe({ signal }),
        options.signal,
        this.#options.settings.fetchTimeoutMs,
        {
          profile: profileName,
        },
      ),
    );
  }

  listProfiles(): readonly SecretProfileInfo[] {
    return [...this.#profiles.values()].map((profile) => ({
      name: profile.name,
      scheme: profile.store.scheme,
      implicit: profile.implicit,
    }));
  }

  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#fetcher.abortAll(new PerimeterError('RUN_ABORTED', 'The secret resolver is closing'));
      this.#cache.clear();
      await this.#clients.closeAll();
    })();
    return this.#closing;
  }

  #assertOpen(): void {
    if (this.#closing !== undefined) {
      throw new PerimeterError(
        'RUN_ABORTED',
        'The secret resolver is closed (shutdown in progress)',
      );
    }
  }

  /** Decodes, selects, registers the value with the redactor and wraps it. */
  #reveal(target: Target, payload: Buffer): SecretValue {
    const { ref } = target;
    const bytes = extractValue(payload, {
      decode: ref.decode,
      selector: ref.selector,
      ref: target.display,
    });
    try {
      if (!this.#options.redactor.add(bytes.toString('utf8'))) {
        const warnKey = `${target.key}#${ref.raw}`;
        if (!this.#shortWarned.has(warnKey)) {
          this.#shortWarned.add(warnKey);
          this.#options.logger.warn(
            { ref: target.display, profile: target.profile.name },
            'secret value too short to be redacted from logs by value',
          );
        }
      }
      return new SecretValue(bytes);
    } finally {
      bytes.fill(0);
    }
  }
}

/** The error of one credential of a map, naming it. */
function namedError(error: unknown, name: string): unknown {
  if (!isPerimeterError(error)) {
    return error;
  }
  return new PerimeterError(error.code, `Credential "${name}": ${error.message}`, {
    cause: error,
    retryable: error.retryable,
    retryAfterMs: error.retryAfterMs,
    context: { ...error.context, credential: name },
  });
}

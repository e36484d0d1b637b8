// A secret store held in memory, for the resolver's unit tests: a fake of our own store
// interface with the knobs the caching policy needs (faults, delays, leases, credential refs).
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { createMetrics } from '../../agent/metrics/metrics.ts';
import type { Metrics } from '../../agent/metrics/metrics.ts';
import { PerimeterError, defineSecretStore } from '../../agent/plugin-api/index.ts';
import type { FetchedSecret, SecretStoreDefinition } from '../../agent/plugin-api/index.ts';
import type { SecretProfiles } from '../../agent/secrets/profiles.ts';
import { createSecretResolver } from '../../agent/secrets/resolver.ts';
import type { SecretResolver } from '../../agent/secrets/resolver.ts';
import { SecretsSettingsSchema } from '../../agent/secrets/settings.ts';
import { secretStores } from '../../secrets/index.ts';
import { captureLogs } from './capture-logs.ts';
import type { CapturedLogs } from './capture-logs.ts';

const MemoryProfileSchema = z.strictObject({
  credentialRef: z.string().optional().describe('A reference resolved before each read'),
});

/** The state and controls of one memory store, shared by every profile of its scheme. */
export class MemoryStore {
  readonly scheme: string;
  readonly secrets = new Map<string, { value: Buffer; version: number }>();
  readonly denied = new Set<string>();
  /** Signals of the reads the store received, in order. */
  readonly signals: AbortSignal[] = [];
  /** Profile names whose clients were created, closed and probed. */
  readonly created: string[] = [];
  readonly closed: string[] = [];
  readonly probed: string[] = [];
  /** Credentials the clients resolved through deps.resolve, by profile. */
  readonly credentials: string[] = [];
  failures = 0;
  failAll = false;
  retryAfterMs: number | undefined;
  delayMs = 0;
  leaseSeconds: number | undefined;
  reads = 0;
  probeDelayMs = 0;
  probeError: Error | undefined;

  constructor(scheme = 'mem') {
    this.scheme = scheme;
  }

  put(name: string, value: string): void {
    const version = (this.secrets.get(name)?.version ?? 0) + 1;
    this.secrets.set(name, { value: Buffer.from(value), version });
  }

  definition(): SecretStoreDefinition<typeof MemoryProfileSchema> {
    return defineSecretStore({
      scheme: this.scheme,
      params: ['colour'],
      profileSchema: MemoryProfileSchema,
      create: (profile, deps) => {
        this.created.push(deps.profileName);
        return {
          canonicalize: (ref) => ({
            locator: ref.locator.replace(/\/+$/, ''),
            version: ref.version,
            pinned: ref.version !== undefined && /^\d+$/.test(ref.version),
            details: {},
          }),
          fetch: async (ref, { signal }) => {
            if (profile.credentialRef !== undefined) {
              this.credentials.push(
                (await deps.resolve(profile.credentialRef, { signal })).reveal(),
              );
            }
            return this.#read(ref.locator, ref.version, signal);
          },
          probe: async ({ signal }) => {
            this.probed.push(deps.profileName);
            if (this.probeDelayMs > 0) {
              // Ignores the signal on purpose: the resolver must give up by itself.
              await sleep(this.probeDelayMs);
            }
            if (this.probeError !== undefined) {
              throw this.probeError;
            }
            signal.throwIfAborted();
          },
          close: () => {
            this.closed.push(deps.profileName);
            return Promise.resolve();
          },
        };
      },
    });
  }

  async #read(
    name: string,
    version: string | undefined,
    signal: AbortSignal,
  ): Promise<FetchedSecret> {
    this.reads += 1;
    this.signals.push(signal);
    if (this.delayMs > 0) {
      await sleep(this.delayMs, undefined, { signal });
    }
    if (this.failAll || this.failures > 0) {
      this.failures = Math.max(0, this.failures - 1);
      throw new PerimeterError('SECRET_UNAVAILABLE', 'Throttled', {
        context: { ref: name },
        ...(this.retryAfterMs === undefined ? {} : { retryAfterMs: this.retryAfterMs }),
      });
    }
    if (this.denied.has(name)) {
      throw new PerimeterError('SECRET_ACCESS_DENIED', 'Denied', { context: { ref: name } });
    }
    const secret = this.secrets.get(name);
    if (secret === undefined || (version !== undefined && version !== String(secret.version))) {
      throw new PerimeterError('SECRET_NOT_FOUND', 'Not found', { context: { ref: name } });
    }
    return {
      value: Buffer.from(secret.value),
      versionId: String(secret.version),
      ...(this.leaseSeconds === undefined ? {} : { leaseSeconds: this.leaseSeconds }),
    };
  }
}

/** A resolver over a memory store `mem` (profile `mem`, allow `app/**` and `other/*`), the env
 * and file stores, captured logs, metrics of its own and a clock the test moves. */
export interface ResolverHarness {
  readonly store: MemoryStore;
  readonly logs: CapturedLogs;
  readonly metrics: Metrics;
  readonly clock: { ms: number };
  readonly resolver: SecretResolver;
  /** A signal that never aborts. */
  readonly signal: AbortSignal;
  /** `secretFetchesTotal` by outcome, for the `mem` store. */
  fetches(): Promise<Record<string, number>>;
}

export function setupResolver(
  options: {
    readonly settings?: Partial<z.input<typeof SecretsSettingsSchema>>;
    readonly profiles?: SecretProfiles;
    readonly environment?: Readonly<Record<string, string>>;
  } = {},
): ResolverHarness {
  const store = new MemoryStore();
  const logs = captureLogs();
  const metrics = createMetrics();
  const clock = { ms: 1_000_000 };
  const settings = SecretsSettingsSchema.parse({
    retryBaseDelayMs: 1,
    retryMaxDelayMs: 50,
    fetchTimeoutMs: 2_000,
    ...options.settings,
  });
  const resolver = createSecretResolver({
    stores: [...secretStores, store.definition()],
    profiles: options.profiles ?? { mem: { type: 'mem', allow: ['app/**', 'other/*'] } },
    settings,
    network: { extraCaPem: undefined, httpsProxy: undefined, noProxy: undefined },
    redactor: logs.redactor,
    logger: logs.logger,
    metrics,
    environment: options.environment ?? {},
    now: () => clock.ms,
    random: () => 0.5,
  });
  const fetches = async (): Promise<Record<string, number>> => {
    const { values } = await metrics.secretFetchesTotal.get();
    return Object.fromEntries(
      values
        .filter((v) => v.labels.store === 'mem')
        .map((v) => [String(v.labels.outcome), v.value]),
    );
  };
  return { store, logs, metrics, clock, resolver, signal: new AbortController().signal, fetches };
}

import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { PerimeterError } from '../../agent/plugin-api/index.ts';
import type {
  CanonicalSecretRef,
  FetchedSecret,
  SecretRef,
  SecretStoreClient,
  SecretStoreDeps,
} from '../../agent/plugin-api/index.ts';
import { createVaultApi } from './api.ts';
import type { VaultApi } from './api.ts';
import { mapVaultError, storeClosed, vaultStatus } from './errors.ts';
import { canonicalizeVaultRef, encodeApiPath, targetOf } from './locator.ts';
import type { VaultTarget } from './locator.ts';
import { createLogin } from './login.ts';
import type { VaultProfile } from './profile.ts';
import { VaultTokenKeeper } from './token.ts';

/** Bound of `close()`: a login in flight, then the revocation. */
const CLOSE_TIMEOUT_MS = 3_000;

const Kv2Response = z.object({
  data: z.object({
    data: z.record(z.string(), z.unknown()).nullable(),
    metadata: z.object({ version: z.number() }),
  }),
});
const Kv1Response = z.object({
  data: z.record(z.string(), z.unknown()),
  lease_id: z.string().optional(),
  lease_duration: z.number().optional(),
});

interface Session {
  readonly api: VaultApi;
  readonly keeper: VaultTokenKeeper;
}

function unexpectedShape(locator: string, cause: unknown): PerimeterError {
  return new PerimeterError(
    'SECRET_UNAVAILABLE',
    'Vault answered the read with an unexpected shape. Check ?kv= for this mount',
    {
      retryable: false,
      cause,
      context: { store: 'vault', locator },
    },
  );
}

/**
 * The payload: the KV map as JSON (selectors pick fields from it), or with `?field=` that one
 * field's value (a string as is, so that `decode=base64` and selectors apply to it).
 */
function payloadOf(data: Record<string, unknown>, target: VaultTarget, locator: string): Buffer {
  if (target.field === '') {
    return Buffer.from(JSON.stringify(data));
  }
  const value = data[target.field];
  if (value === undefined || !Object.hasOwn(data, target.field)) {
    throw new PerimeterError(
      'SECRET_SELECTOR_INVALID',
      `The Vault secret has no field "${target.field}"`,
      {
        context: { store: 'vault', locator },
      },
    );
  }
  return Buffer.from(typeof value === 'string' ? value : JSON.stringify(value));
}

/** The payload of a KV read with its version identity. */
function toFetched(body: unknown, target: VaultTarget, locator: string): FetchedSecret {
  if (target.kv === 2) {
    const parsed = Kv2Response.safeParse(body);
    if (!parsed.success) {
      throw unexpectedShape(locator, parsed.error);
    }
    if (parsed.data.data.data === null) {
      throw new PerimeterError(
        'SECRET_NOT_FOUND',
        'This version of the secret was deleted in Vault',
        {
          context: { store: 'vault', locator },
        },
      );
    }
    const { data, metadata } = parsed.data.data;
    return { value: payloadOf(data, target, locator), versionId: String(metadata.version) };
  }
  const parsed = Kv1Response.safeParse(body);
  if (!parsed.success) {
    throw unexpectedShape(locator, parsed.error);
  }
  const { data, lease_id: leaseId, lease_duration: leaseSeconds } = parsed.data;
  // KV v1's lease_duration is a refresh hint; only a real lease (dynamic secret) caps the cache.
  const lease =
    leaseId !== undefined && leaseId !== '' && leaseSeconds !== undefined && leaseSeconds > 0;
  return {
    value: payloadOf(data, target, locator),
    versionId: undefined,
    ...(lease ? { leaseSeconds } : {}),
  };
}

async function readCaFile(path: string | undefined): Promise<string | undefined> {
  if (path === undefined) {
    return undefined;
  }
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    throw new PerimeterError(
      'CONFIG_INVALID',
      'secretStores.<profile>.caFile cannot be read. Check the path and mount',
      { cause: error, context: { store: 'vault', path } },
    );
  }
}

/**
 * The `vault` client of one profile: one node-vault client and one token, created on first use
 * (no network call before the first fetch or probe).
 */
class VaultClient implements SecretStoreClient {
  readonly #profile: VaultProfile;
  readonly #deps: SecretStoreDeps;
  #session: Promise<Session> | undefined;
  #closing: Promise<void> | undefined;

  constructor(profile: VaultProfile, deps: SecretStoreDeps) {
    this.#profile = profile;
    this.#deps = deps;
  }

  canonicalize(ref: SecretRef): CanonicalSecretRef {
    return canonicalizeVaultRef(ref, { kv: this.#profile.kv, namespace: this.#profile.namespace });
  }

  async fetch(
    ref: CanonicalSecretRef,
    { signal }: { readonly signal: AbortSignal },
  ): Promise<FetchedSecret> {
    const started = performance.now();
    let outcome = 'error';
    try {
      const fetched = await this.#read(ref, signal);
      outcome = 'ok';
      return fetched;
    } catch (error) {
      if (signal.aborted) {
        outcome = 'aborted';
        throw signal.reason;
      }
      const mapped = mapVaultError(error, ref.locator);
      outcome = mapped instanceof PerimeterError ? mapped.code : outcome;
      throw mapped;
    } finally {
      const durationMs = Math.round(performance.now() - started);
      this.#deps.logger.debug({ locator: ref.locator, durationMs, outcome }, 'vault read');
    }
  }

  async probe({ signal }: { readonly signal: AbortSignal }): Promise<void> {
    try {
      const { api, keeper } = await this.#open();
      await api.lookupSelf(await keeper.token(signal), signal);
    } catch (error) {
      throw signal.aborted ? signal.reason : mapVaultError(error, 'probe');
    }
  }

  close(): Promise<void> {
    this.#closing ??= (async () => {
      const opened = await this.#session?.catch(() => undefined);
      await opened?.keeper.close();
    })();
    return this.#closing;
  }

  #open(): Promise<Session> {
    if (this.#closing !== undefined) {
      return Promise.reject(storeClosed());
    }
    this.#session ??= this.#createSession().catch((error: unknown) => {
      this.#session = undefined;
      throw error;
    });
    return this.#session;
  }

  async #createSession(): Promise<Session> {
    const profile = this.#profile;
    const cas = [this.#deps.network.extraCaPem, await readCaFile(profile.caFile)];
    const trusted = cas.filter((pem) => pem !== undefined);
    const api = createVaultApi({
      address: profile.address,
      namespace: profile.namespace ?? '',
      requestTimeoutMs: profile.requestTimeoutMs,
      extraCaPem: trusted.length === 0 ? undefined : trusted.join('\n'),
      httpsProxy: this.#deps.network.httpsProxy,
      noProxy: this.#deps.network.noProxy,
    });
    const login = createLogin(profile.auth, api, this.#deps);
    const logger = this.#deps.logger;
    return {
      api,
      keeper: new VaultTokenKeeper({ login, api, logger, closeTimeoutMs: CLOSE_TIMEOUT_MS }),
    };
  }

  // One read; after a 403, a token Vault no longer accepts is replaced once (reference §4.5, 4).
  async #read(ref: CanonicalSecretRef, signal: AbortSignal): Promise<FetchedSecret> {
    const { api, keeper } = await this.#open();
    const target = targetOf(ref);
    const query = ref.version === undefined ? '' : `?version=${ref.version}`;
    const path = encodeApiPath(target.apiPath) + query;
    const token = await keeper.token(signal);
    let body: unknown;
    try {
      body = await api.read(path, token, target.namespace, signal);
    } catch (error) {
      if (vaultStatus(error) !== 403 || !(await keeper.rejected(token, signal))) {
        throw error;
      }
      body = await api.read(path, await keeper.token(signal), target.namespace, signal);
    }
    return toFetched(body, target, ref.locator);
  }
}

/** Builds the `vault` client of one profile. No network call until the first fetch or probe. */
export function createVaultClient(profile: VaultProfile, deps: SecretStoreDeps): SecretStoreClient {
  return new VaultClient(profile, deps);
}

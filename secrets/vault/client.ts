import { z } from 'zod';
import { PerimeterError, createStoreAgent, readCaFile } from '../../agent/plugin-api/index.ts';
import type {
  CanonicalSecretRef,
  FetchedSecret,
  SecretStoreBackend,
  SecretStoreDeps,
} from '../../agent/plugin-api/index.ts';
import { createVaultApi } from './api.ts';
import type { VaultApi } from './api.ts';
import { vaultStatus } from './errors.ts';
import { encodeApiPath, targetOf } from './locator.ts';
import type { VaultTarget } from './locator.ts';
import { createLogin } from './login.ts';
import type { VaultProfile } from './profile.ts';
import { VaultTokenKeeper } from './token.ts';

/** Bound of the keeper's close: waiting for a login in flight, then the revocation. */
const KEEPER_CLOSE_TIMEOUT_MS = 3_000;

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

function unexpectedShape(locator: string, cause: unknown): PerimeterError {
  return new PerimeterError(
    'SECRET_UNAVAILABLE',
    'Vault answered the read with an unexpected shape. Check ?kv= for this mount',
    { retryable: false, cause, context: { store: 'vault', locator } },
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
      { context: { store: 'vault', locator } },
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

/** The SDK side of one `vault` profile: one node-vault client and one token keeper. */
class VaultBackend implements SecretStoreBackend {
  readonly #api: VaultApi;
  readonly #keeper: VaultTokenKeeper;

  constructor(api: VaultApi, keeper: VaultTokenKeeper) {
    this.#api = api;
    this.#keeper = keeper;
  }

  // One read; after a 403, a token Vault no longer accepts is replaced once (reference §4.5, 4).
  async read(ref: CanonicalSecretRef, signal: AbortSignal): Promise<FetchedSecret> {
    const target = targetOf(ref);
    const query = ref.version === undefined ? '' : `?version=${ref.version}`;
    const path = encodeApiPath(target.apiPath) + query;
    const token = await this.#keeper.token(signal);
    let body: unknown;
    try {
      body = await this.#api.read(path, token, target.namespace, signal);
    } catch (error) {
      if (vaultStatus(error) !== 403 || !(await this.#keeper.rejected(token, signal))) {
        throw error;
      }
      body = await this.#api.read(path, await this.#keeper.token(signal), target.namespace, signal);
    }
    return toFetched(body, target, ref.locator);
  }

  async probe(signal: AbortSignal): Promise<void> {
    await this.#api.lookupSelf(await this.#keeper.token(signal), signal);
  }

  close(): Promise<void> {
    return this.#keeper.close();
  }
}

/**
 * Builds the SDK side of a `vault` profile: reads the profile's `caFile` and makes no network
 * call until the first read or probe (the first token is obtained then).
 */
export async function createVaultBackend(
  profile: VaultProfile,
  deps: SecretStoreDeps,
): Promise<SecretStoreBackend> {
  const caPem = await readCaFile(profile.caFile, { scheme: 'vault', profile: deps.profileName });
  const api = createVaultApi({
    address: profile.address,
    namespace: profile.namespace ?? '',
    requestTimeoutMs: profile.requestTimeoutMs,
    agent: createStoreAgent(deps.network, [caPem]),
  });
  const keeper = new VaultTokenKeeper({
    login: createLogin(profile.auth, api, deps),
    api,
    logger: deps.logger,
    profileName: deps.profileName,
    closeTimeoutMs: KEEPER_CLOSE_TIMEOUT_MS,
  });
  return new VaultBackend(api, keeper);
}

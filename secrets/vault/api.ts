import type { Agent } from 'node:https';
import nodeVault from 'node-vault';
import { z } from 'zod';
import { PerimeterError, raceAbort } from '../../agent/plugin-api/index.ts';

/** What a token lookup tells: how long it lives and whether it can be renewed. */
export interface TokenInfo {
  /** Epoch ms at which the token expires; undefined for a token without TTL. */
  readonly expiresAtMs: number | undefined;
  readonly renewable: boolean;
  /** The TTL it was created with, in seconds (the increment asked for when renewing). */
  readonly creationTtlSeconds: number;
}

/** The result of a renewal. */
export interface Renewal {
  readonly leaseSeconds: number;
  readonly renewable: boolean;
}

/** The Vault calls the store makes, typed, each with its token and namespace given explicitly. */
export interface VaultApi {
  login(
    method: 'approle' | 'kubernetes',
    mount: string,
    body: Readonly<Record<string, string>>,
    signal: AbortSignal,
  ): Promise<string>;
  lookupSelf(token: string, signal: AbortSignal): Promise<TokenInfo>;
  renewSelf(token: string, incrementSeconds: number, signal: AbortSignal): Promise<Renewal>;
  revokeSelf(token: string, signal: AbortSignal): Promise<void>;
  /** GET /v1/<path>; the raw JSON body. */
  read(path: string, token: string, namespace: string, signal: AbortSignal): Promise<unknown>;
}

/** Options of {@link createVaultApi}. */
export interface VaultApiOptions {
  readonly address: string;
  /** Namespace of login and token calls ('' for none). */
  readonly namespace: string;
  readonly requestTimeoutMs: number;
  /**
   * The profile's HTTPS agent (extra CAs, certificate checks always on, the proxy through
   * `proxyEnv`, which axios then leaves alone).
   */
  readonly agent: Agent;
}

const LoginResponse = z.object({ auth: z.object({ client_token: z.string().min(1) }) });
const LookupResponse = z.object({
  data: z.object({
    ttl: z.number(),
    expire_time: z.string().nullish(),
    renewable: z.boolean().optional(),
    creation_ttl: z.number().optional(),
  }),
});
const RenewResponse = z.object({
  auth: z.object({ lease_duration: z.number(), renewable: z.boolean().optional() }),
});

function unexpected(call: string, cause: unknown): PerimeterError {
  return new PerimeterError(
    'SECRET_UNAVAILABLE',
    `Vault answered ${call} with an unexpected shape`,
    {
      retryable: false,
      cause,
      context: { store: 'vault', call },
    },
  );
}

function parse<T>(schema: z.ZodType<T>, body: unknown, call: string): T {
  const result = schema.safeParse(body);
  if (!result.success) {
    throw unexpected(call, result.error);
  }
  return result.data;
}

function lookupInfo(body: unknown): TokenInfo {
  const { data } = parse(LookupResponse, body, 'lookup-self');
  const fromExpireTime = data.expire_time ? Date.parse(data.expire_time) : Number.NaN;
  let expiresAtMs: number | undefined;
  if (Number.isFinite(fromExpireTime)) {
    expiresAtMs = fromExpireTime;
  } else if (data.ttl > 0) {
    expiresAtMs = Date.now() + data.ttl * 1000;
  }
  return {
    expiresAtMs,
    renewable: data.renewable ?? false,
    creationTtlSeconds: data.creation_ttl ?? data.ttl,
  };
}

/**
 * Wraps a node-vault client. Everything node-vault would take from the environment
 * (VAULT_TOKEN, VAULT_NAMESPACE, VAULT_PREFIX, VAULT_SKIP_VERIFY) is pinned here, and its debug
 * output (which prints request bodies: secret ids, JWTs) is switched off.
 */
export function createVaultApi(options: VaultApiOptions): VaultApi {
  const vault = nodeVault({
    apiVersion: 'v1',
    endpoint: options.address,
    debug: () => undefined,
    // An agent of our own, passed with every request, so VAULT_SKIP_VERIFY (which node-vault
    // honours whatever its value) cannot turn certificate checks off.
    requestOptions: { timeout: options.requestTimeoutMs, httpsAgent: options.agent },
  });
  // Set after construction: the constructor falls back to the environment for empty values.
  Object.assign(vault, { token: '', pathPrefix: '', namespace: '' });

  const headers = (token: string, namespace: string): Record<string, string> => ({
    ...(token === '' ? {} : { 'X-Vault-Token': token }),
    ...(namespace === '' ? {} : { 'X-Vault-Namespace': namespace }),
  });
  // Login and renewal calls make node-vault remember the token; the store passes it explicitly.
  // node-vault cannot cancel: an abort stops the wait, its own timeout ends the request.
  const call = async <T>(promise: Promise<T>, signal: AbortSignal): Promise<T> => {
    try {
      return await raceAbort(promise, signal);
    } finally {
      vault.token = '';
    }
  };
  const ownRequest = (token: string): { requestOptions: { headers: Record<string, string> } } => ({
    requestOptions: { headers: headers(token, options.namespace) },
  });

  return {
    async login(method, mount, body, signal) {
      // mount_point is always passed: without it kubernetesLogin posts to /auth//login (§4.5, 1).
      const args = { ...body, mount_point: mount, ...ownRequest('') };
      const response: unknown = await call(
        method === 'kubernetes' ? vault.kubernetesLogin(args) : vault.approleLogin(args),
        signal,
      );
      return parse(LoginResponse, response, 'login').auth.client_token;
    },
    async lookupSelf(token, signal) {
      return lookupInfo(await call(vault.tokenLookupSelf(ownRequest(token)), signal));
    },
    async renewSelf(token, incrementSeconds, signal) {
      const body: unknown = await call(
        vault.tokenRenewSelf({ increment: `${incrementSeconds}s`, ...ownRequest(token) }),
        signal,
      );
      const { auth } = parse(RenewResponse, body, 'renew-self');
      return { leaseSeconds: auth.lease_duration, renewable: auth.renewable ?? false };
    },
    async revokeSelf(token, signal) {
      await call(vault.tokenRevokeSelf(ownRequest(token)), signal);
    },
    async read(path, token, namespace, signal) {
      const body: unknown = await call(
        vault.read(path, { headers: headers(token, namespace) }),
        signal,
      );
      return body;
    },
  };
}

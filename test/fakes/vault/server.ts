import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { readBody } from '../../helpers/fake-server.ts';
import type { FakeKv } from './kv.ts';
import { policyAllows } from './tokens.ts';
import type { FakeToken, FakeVaultTokens } from './tokens.ts';

/** Calls the fake served, by kind (failed ones included). */
export interface VaultCallCounts {
  logins: number;
  lookups: number;
  renewals: number;
  revocations: number;
  /** KV reads (secret reads), served or failed. */
  reads: number;
  /** Requests held by a delay fault right now (arrived, not yet answered). */
  held: number;
}

/** Fault switches. A fault answers the status with Vault's error body. */
export interface VaultFaults {
  /** The next N KV reads fail with `status`. */
  failReads: number;
  failAll: boolean;
  status: number;
  /** Everything answers 503 "Vault is sealed". */
  sealed: boolean;
  /** renew-self answers 500. */
  failRenewals: boolean;
  /** Milliseconds each KV read is held before it is answered. */
  delayMs: number;
  /** Milliseconds each login and token call is held (to catch a login in flight). */
  authDelayMs: number;
}

/** What the router needs. */
export interface VaultRouterState {
  readonly kv: FakeKv;
  readonly tokens: FakeVaultTokens;
  readonly counts: VaultCallCounts;
  readonly faults: VaultFaults;
  /** Auth mounts by `<namespace>|<mount>`: their method. */
  readonly authMounts: Map<string, 'approle' | 'kubernetes'>;
  /** Every X-Vault-Namespace header received with a KV read ('' when absent). */
  readonly readNamespaces: string[];
  readonly shutdown: AbortSignal;
}

interface Request {
  readonly method: string;
  readonly path: string;
  readonly query: URLSearchParams;
  readonly namespace: string;
  readonly token: string | undefined;
  readonly body: Record<string, unknown>;
}

type Answer = readonly [status: number, body?: unknown];

const DENIED: Answer = [403, { errors: ['permission denied'] }];

function authBlock(token: FakeToken, ttlSeconds: number): Record<string, unknown> {
  return {
    client_token: token.id,
    accessor: token.accessor,
    policies: ['default'],
    token_policies: ['default'],
    metadata: null,
    lease_duration: ttlSeconds,
    renewable: token.renewable,
    entity_id: randomUUID(),
    token_type: 'service',
    orphan: true,
  };
}

function lookupData(token: FakeToken): Record<string, unknown> {
  const ttl =
    token.expiresAtMs === undefined
      ? 0
      : Math.max(0, Math.floor((token.expiresAtMs - Date.now()) / 1000));
  return {
    accessor: token.accessor,
    creation_time: Math.floor(token.issuedAtMs / 1000),
    creation_ttl: token.creationTtlSeconds,
    expire_time: token.expiresAtMs === undefined ? null : new Date(token.expiresAtMs).toISOString(),
    explicit_max_ttl: 0,
    id: token.id,
    namespace_path: token.namespace === '' ? '' : `${token.namespace}/`,
    policies: ['default'],
    renewable: token.renewable,
    ttl,
    type: 'service',
  };
}

// A token works in its own namespace and the ones below it.
function tokenFor(state: VaultRouterState, request: Request): FakeToken | undefined {
  const token = state.tokens.live(request.token);
  const scoped =
    token !== undefined &&
    (token.namespace === '' ||
      request.namespace === token.namespace ||
      request.namespace.startsWith(`${token.namespace}/`));
  return scoped ? token : undefined;
}

function tokenCall(state: VaultRouterState, request: Request, call: string): Answer {
  const token = tokenFor(state, request);
  if (token === undefined) {
    return DENIED;
  }
  if (call === 'lookup-self') {
    state.counts.lookups += 1;
    return [200, { data: lookupData(token) }];
  }
  if (call === 'revoke-self') {
    state.counts.revocations += 1;
    token.revoked = true;
    return [204];
  }
  state.counts.renewals += 1;
  if (state.faults.failRenewals) {
    return [500, { errors: ['internal error'] }];
  }
  if (!token.renewable) {
    return [400, { errors: ['lease is not renewable'] }];
  }
  const { ttlSeconds, capped } = state.tokens.renew(token, request.body['increment']);
  const warnings = capped
    ? ['TTL of the renewal exceeded the effective max_ttl; TTL value is capped accordingly']
    : null;
  return [200, { auth: authBlock(token, ttlSeconds), warnings }];
}

function login(state: VaultRouterState, request: Request, mount: string): Answer {
  state.counts.logins += 1;
  const method = state.authMounts.get(`${request.namespace}|${mount}`);
  if (method === undefined) {
    return [
      400,
      { errors: [`no handler for route "auth/${mount}/login". route entry not found.`] },
    ];
  }
  const role = String(method === 'approle' ? request.body['role_id'] : request.body['role']);
  const credential = String(method === 'approle' ? request.body['secret_id'] : request.body['jwt']);
  const token = state.tokens.login(
    `${request.namespace}|${mount}|${role}`,
    credential,
    request.namespace,
  );
  if (token === undefined) {
    return [
      400,
      { errors: [method === 'approle' ? 'invalid role or secret ID' : 'permission denied'] },
    ];
  }
  return [
    200,
    {
      request_id: randomUUID(),
      lease_id: '',
      renewable: false,
      lease_duration: 0,
      data: null,
      auth: authBlock(token, token.creationTtlSeconds),
    },
  ];
}

function kvRead(state: VaultRouterState, request: Request): Answer {
  state.counts.reads += 1;
  state.readNamespaces.push(request.namespace);
  const { faults } = state;
  if (faults.failAll || faults.failReads > 0) {
    faults.failReads = Math.max(0, faults.failReads - 1);
    return [
      faults.status,
      { errors: [faults.status === 429 ? 'rate limit quota exceeded' : 'Vault is unavailable'] },
    ];
  }
  const token = tokenFor(state, request);
  const fullPath = request.namespace === '' ? request.path : `${request.namespace}/${request.path}`;
  if (token === undefined || !policyAllows(token.policies, fullPath)) {
    return DENIED;
  }
  const resolved = state.kv.resolve(fullPath);
  if (resolved === undefined) {
    return [404, { errors: [] }];
  }
  const answer = state.kv.read(resolved.mount, resolved.rest, request.query);
  return [answer.status, answer.body];
}

function route(state: VaultRouterState, request: Request): Answer {
  if (state.faults.sealed) {
    return [503, { errors: ['Vault is sealed'] }];
  }
  if (request.path === 'sys/health') {
    return [200, { initialized: true, sealed: false, standby: false, version: '1.17.0-fake' }];
  }
  const tokenMatch = /^auth\/token\/(lookup-self|renew-self|revoke-self)$/.exec(request.path);
  if (tokenMatch !== null) {
    return tokenCall(state, request, tokenMatch[1]!);
  }
  const loginMatch = /^auth\/(.+)\/login$/.exec(request.path);
  if (loginMatch !== null && request.method !== 'GET') {
    return login(state, request, loginMatch[1]!);
  }
  return request.method === 'GET'
    ? kvRead(state, request)
    : [405, { errors: ['unsupported operation'] }];
}

async function parseRequest(req: IncomingMessage): Promise<Request> {
  const url = new URL(req.url ?? '/', 'http://vault');
  const text = (await readBody(req)).toString('utf8');
  const header = (name: string): string | undefined => {
    const value = req.headers[name];
    return typeof value === 'string' ? value : undefined;
  };
  return {
    method: req.method ?? 'GET',
    // Vault decodes each path segment: `%3F` is a `?` inside the secret's path.
    path: url.pathname
      .replace(/^\/v1\//, '')
      .split('/')
      .map(decodeURIComponent)
      .join('/'),
    query: url.searchParams,
    namespace: (header('x-vault-namespace') ?? '').replace(/^\/+|\/+$/g, ''),
    token: header('x-vault-token'),
    body: text === '' ? {} : (JSON.parse(text) as Record<string, unknown>),
  };
}

/** The fake's HTTP handler (a held request ended by the fake's close rejects: 500). */
export function createVaultHandler(
  state: VaultRouterState,
): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  return async (req, res) => {
    const request = await parseRequest(req);
    const auth = request.path.startsWith('auth/');
    const delayMs = auth ? state.faults.authDelayMs : state.faults.delayMs;
    if (delayMs > 0) {
      state.counts.held += 1;
      try {
        await sleep(delayMs, undefined, { signal: state.shutdown });
      } finally {
        state.counts.held -= 1;
      }
    }
    const [status, body] = route(state, request);
    const headers = {
      'content-type': 'application/json',
      ...(status === 429 ? { 'retry-after': '1' } : {}),
    };
    res.writeHead(status, headers).end(body === undefined ? undefined : JSON.stringify(body));
  };
}

import { randomBytes } from 'node:crypto';
import { startLoopbackServer } from '../../helpers/fake-server.ts';
import { CyralFaults, CyralTokens, emptyStats } from './control.ts';
import type { CyralSimulatorStats, TokenPolicy } from './control.ts';
import { handleCyral } from './handler.ts';
import type { CyralSimulatorState } from './handler.ts';
import { CyralTenant } from './tenant.ts';
import type { CyralTenantSize } from './tenant.ts';

export type { CyralSimulatorStats } from './control.ts';

/** How to start a simulator. Everything is optional. */
export interface CyralSimulatorOptions {
  /** Makes the tenant's records (same seed, same records). @default 1 */
  readonly seed?: number;
  readonly size?: Partial<CyralTenantSize>;
  readonly clientId?: string;
  /** The valid client secret (the conformance canary). @default random */
  readonly clientSecret?: string;
  /** The value of every secret-bearing field the tenant serves. @default random */
  readonly planted?: string;
  /** Token issuing; each field can be changed later with the switches. */
  readonly tokens?: Partial<TokenPolicy>;
  /** Whether `/v2/policies/{type}` lists v2 policies. @default true */
  readonly servesPoliciesV2?: boolean;
  /** The simulator's clock for token expiry, in ms since the epoch. @default Date.now */
  readonly now?: () => number;
  /** Called on each data request before it is answered (a test's clock may advance here). */
  readonly onRequest?: (path: string) => void;
}

/** A running simulator of a Cyral control plane on loopback, with a switch for every fault. */
export interface CyralSimulator {
  /** `http://127.0.0.1:PORT`. */
  readonly url: string;
  /** `127.0.0.1:PORT`, for a destination policy. */
  readonly host: string;
  readonly tenant: CyralTenant;
  readonly clientId: string;
  /** The client secret token requests must carry now. */
  readonly clientSecret: string;
  /** `METHOD /path` of every request received, in order. */
  requests(): readonly string[];
  /** `METHOD /path?query` of every data request, for paging assertions. */
  targets(): readonly string[];
  /** Every write refused (any non-GET but the token and filter POSTs). */
  refused(): readonly string[];
  /** Calls to paths a metadata connector must never call (audit logs, access tokens). */
  forbidden(): readonly string[];
  /** Every access and refresh token issued, for leak checks. */
  issuedTokens(): readonly string[];
  stats(): CyralSimulatorStats;
  /** From now on token requests answer 401. */
  rejectCredentials(): void;
  /** The client secret is rotated: only `next` is accepted, and every token issued stops working. */
  rotateSecret(next: string): void;
  /** From now on refresh grants answer `invalid_grant`; client credentials still work. */
  refuseRefreshTokens(): void;
  /** From now on data calls answer `status` (401 or 403) whatever the token. */
  rejectTokens(status?: number): void;
  /** The next `times` data calls answer 429 with `Retry-After: <seconds>`. */
  rateLimit(retryAfterSeconds: number, times?: number): void;
  /** The next `times` data calls answer `status` (5xx). */
  failWith(status: number, times?: number): void;
  /** Every `n`th data call answers 429 (with `Retry-After: retryAfterSeconds`). */
  rateLimitEvery(n: number, retryAfterSeconds?: number): void;
  /** Every `n`th data call answers `status` (5xx). */
  failEvery(n: number, status?: number): void;
  /** Every call to a path matching `pattern` answers `status` (e.g. 403 for a kind not granted). */
  failPath(pattern: RegExp, status: number): void;
  /** NotFound answers carry this status (Cyral sends some with 500). */
  notFoundStatus(status: number): void;
  /** Every data response waits `ms` first. */
  slowDown(ms: number): void;
  /**
   * The next `times` data calls to a path matching `pattern` lose their connection, before any
   * answer or (`mid-body`) halfway through the body of a 200.
   */
  dropConnection(pattern: RegExp, when: 'before-answer' | 'mid-body', times?: number): void;
  /** `composedBindings/filter` serves at most `size` bindings a page. */
  maxPageSize(size: number): void;
  /** Changes how tokens are issued from now on (lifetime, string expiry, refresh tokens). */
  tokenPolicy(policy: Partial<TokenPolicy>): void;
  /** Every token issued so far stops working. */
  expireTokens(): void;
  /** Every fault switch off (token policy and page size stay). */
  restore(): void;
  close(): Promise<void>;
}

/** Starts the simulator on 127.0.0.1. */
export async function startCyralSimulator(
  options: CyralSimulatorOptions = {},
): Promise<CyralSimulator> {
  const state = initialState(options);
  const server = await startLoopbackServer((request, response) =>
    handleCyral(state, request, response),
  );
  const host = `127.0.0.1:${server.port}`;
  return {
    url: server.url,
    host,
    tenant: state.tenant,
    clientId: state.clientId,
    get clientSecret() {
      return state.clientSecret;
    },
    requests: () => [...state.requests],
    targets: () => [...state.targets],
    refused: () => [...state.refused],
    forbidden: () => [...state.forbidden],
    issuedTokens: () => [...state.tokens.issued],
    stats: () => ({ ...state.stats }),
    ...switches(state),
    close: () => {
      state.closing.abort();
      return server.close();
    },
  };
}

function initialState(options: CyralSimulatorOptions): CyralSimulatorState {
  const random = (label: string): string => `${label}-${randomBytes(12).toString('hex')}`;
  return {
    tenant: new CyralTenant(
      options.seed ?? 1,
      options.size ?? {},
      options.planted ?? random('SIMSECRET'),
    ),
    clientId: options.clientId ?? 'perimeter-metadata-reader',
    clientSecret: options.clientSecret ?? random('sim-client-secret'),
    faults: new CyralFaults(),
    tokenPolicy: {
      lifetimeSeconds: 300,
      expiresInAsString: false,
      issueRefreshTokens: false,
      refreshLifetimeSeconds: 1800,
      ...options.tokens,
    },
    tokens: new CyralTokens(options.now ?? Date.now),
    stats: emptyStats(),
    requests: [],
    targets: [],
    refused: [],
    forbidden: [],
    servesPoliciesV2: options.servesPoliciesV2 ?? true,
    onRequest: options.onRequest,
    closing: new AbortController(),
  };
}

type Switches = Pick<
  CyralSimulator,
  | 'rejectCredentials'
  | 'rejectTokens'
  | 'rotateSecret'
  | 'refuseRefreshTokens'
  | 'rateLimit'
  | 'failWith'
  | 'rateLimitEvery'
  | 'failEvery'
  | 'failPath'
  | 'notFoundStatus'
  | 'slowDown'
  | 'dropConnection'
  | 'maxPageSize'
  | 'tokenPolicy'
  | 'expireTokens'
  | 'restore'
>;

function switches(state: CyralSimulatorState): Switches {
  const { faults, tokens, tokenPolicy } = state;
  return {
    rotateSecret: (next) => {
      state.clientSecret = next;
      tokens.revokeAll();
    },
    rejectCredentials: () => {
      faults.rejectCredentials = true;
    },
    refuseRefreshTokens: () => {
      faults.refuseRefreshTokens = true;
    },
    rejectTokens: (status = 401) => {
      faults.rejectTokens = status;
    },
    rateLimit: (retryAfterSeconds, times = Number.POSITIVE_INFINITY) => {
      faults.rateLimit = { retryAfterSeconds, remaining: times };
    },
    failWith: (status, times = Number.POSITIVE_INFINITY) => {
      faults.serverErrors = { status, remaining: times };
    },
    rateLimitEvery: (n, retryAfterSeconds = 0) => {
      faults.rateLimitEvery = { n, retryAfterSeconds };
    },
    failEvery: (n, status = 503) => {
      faults.serverErrorEvery = { n, status };
    },
    failPath: (pattern, status) => {
      faults.failPaths.push({ pattern, status });
    },
    notFoundStatus: (status) => {
      faults.notFoundStatus = status;
    },
    slowDown: (ms) => {
      faults.slowMs = ms;
    },
    dropConnection: (pattern, when, times = 1) => {
      faults.drops.push({ pattern, when, remaining: times });
    },
    maxPageSize: (size) => {
      faults.maxPageSize = size;
    },
    tokenPolicy: (policy) => {
      Object.assign(tokenPolicy, policy);
    },
    expireTokens: () => {
      tokens.revokeAll();
    },
    restore: () => {
      faults.restore();
    },
  };
}

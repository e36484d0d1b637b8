import { X509Certificate } from 'node:crypto';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { routeApi } from './api-routes.ts';
import type { PageEnds } from './api-routes.ts';
import { handleAuth } from './auth-server.ts';
import type { AuthState } from './auth-server.ts';
import { AnaplanFaults, TokenStore, emptyStats } from './control.ts';
import type { AnaplanSimulatorStats } from './control.ts';
import { SimulatedTenant } from './tenant.ts';
import type { AnaplanTenantSize } from './tenant.ts';
import { sendApiError } from './wire.ts';

export type { AnaplanSimulatorStats } from './control.ts';

/** How to start a simulator. Everything is optional. */
export interface AnaplanSimulatorOptions {
  readonly size?: Partial<AnaplanTenantSize>;
  /** Basic users: name → password. @default one user with a fixed password */
  readonly users?: Readonly<Record<string, string>>;
  /** PEM certificates registered for a user (CA-certificate logins). */
  readonly certificates?: readonly string[];
  /** The user is not a workspace administrator. @default false */
  readonly nonAdmin?: boolean;
  /** The simulator's clock (token expiry, v2 timestamps). @default Date.now */
  readonly now?: () => number;
}

/** A running simulator of Anaplan's auth host and Integration API host, on two loopback ports. */
export interface AnaplanSimulator {
  /** `http://127.0.0.1:PORT` of the auth host. */
  readonly authUrl: string;
  /** `http://127.0.0.1:PORT` of the API host. */
  readonly apiUrl: string;
  /** `127.0.0.1:PORT` of both, for a destination policy. */
  readonly hosts: readonly string[];
  readonly tenant: SimulatedTenant;
  readonly user: string;
  readonly password: string;
  /** `METHOD /path` (no query) of every request to either host, in order. */
  requests(): readonly string[];
  /** Full targets (path and query) of every API GET, for paging assertions. */
  targets(): readonly string[];
  /** `GET /path` of every data endpoint called (must stay empty). */
  dataCalls(): readonly string[];
  /** Tokens issued and never logged out. */
  outstandingTokens(): number;
  stats(): AnaplanSimulatorStats;
  /** From now on logins answer 401 and the tokens already issued stop working. */
  rejectCredentials(): void;
  /** The next `times` API calls answer 429 with `Retry-After: <seconds>`. */
  rateLimit(retryAfterSeconds: number, times?: number): void;
  /** The next `times` API calls answer `status` (5xx). */
  failWith(status: number, times?: number): void;
  /** Every API response waits `ms` first. */
  slowDown(ms: number): void;
  /** Tokens issued from now on expire after `ms` (the short-expiry switch). */
  shortExpiry(ms: number): void;
  /** Every `calls` API calls, every token is revoked, so the client must log in again. */
  revokeTokensEvery(calls: number): void;
  /** From now on each page ends where `pageEnds` says (at least one item, at most `limit`). */
  endPagesAt(pageEnds: PageEnds): void;
  /** Every switch off. */
  restore(): void;
  close(): Promise<void>;
}

const DEFAULT_USER = 'integration.user@example.com';
const DEFAULT_PASSWORD = 'Sim-Passw0rd-4f1c9e';

/** Starts the simulator: the auth host and the API host on two ports of 127.0.0.1. */
export async function startAnaplanSimulator(
  options: AnaplanSimulatorOptions = {},
): Promise<AnaplanSimulator> {
  const now = options.now ?? Date.now;
  const users = options.users ?? { [DEFAULT_USER]: DEFAULT_PASSWORD };
  const faults = new AnaplanFaults();
  const tokens = new TokenStore(now);
  const stats = emptyStats();
  const requests: string[] = [];
  const targets: string[] = [];
  const dataCalls: string[] = [];
  const closing = new AbortController();
  const auth: AuthState = {
    users: new Map(Object.entries(users)),
    trustedCertificates: new Set(
      (options.certificates ?? []).map((pem) => new X509Certificate(pem).fingerprint256),
    ),
    seenNonces: new Set(),
    faults,
    tokens,
    stats,
    now,
  };
  const tenant = new SimulatedTenant(options.size);
  const route = { tenant, nonAdmin: options.nonAdmin ?? false, dataCalls };
  let apiCalls = 0;

  const authServer = await listen(async (request, response, url) => {
    await handleAuth(auth, request, response, url.pathname);
  });
  const apiServer = await listen(async (request, response, url) => {
    if (request.method !== 'GET') {
      request.resume();
      sendApiError(response, 405, url.pathname);
      return;
    }
    targets.push(`${url.pathname}${url.search}`);
    apiCalls += 1;
    if (faults.revokeEvery !== undefined && apiCalls % faults.revokeEvery === 0) {
      tokens.revokeAll();
    }
    if (tokens.check(request.headers.authorization).check !== 'ok') {
      stats.unauthorized += 1;
      sendApiError(response, 401, url.pathname);
      return;
    }
    const fault = faults.takeApiFault();
    if (fault !== undefined) {
      if (fault.status === 429) stats.rateLimited += 1;
      else stats.serverErrors += 1;
      const headers: Record<string, string> =
        fault.retryAfterSeconds === undefined
          ? {}
          : { 'retry-after': String(fault.retryAfterSeconds) };
      sendApiError(response, fault.status, url.pathname, headers);
      return;
    }
    if (faults.slowMs > 0) {
      await sleep(faults.slowMs, undefined, { signal: closing.signal }).catch(() => undefined);
    }
    if (url.pathname.startsWith('/2/0/')) {
      routeApi({ ...route, pageEnds: faults.pageEnds }, url.pathname, url.searchParams, response);
    } else {
      sendApiError(response, 404, url.pathname);
    }
  });

  function listen(
    handler: (request: IncomingMessage, response: ServerResponse, url: URL) => Promise<void>,
  ): Promise<Server> {
    const server = createServer((request, response) => {
      const url = new URL(request.url ?? '/', 'http://simulator');
      requests.push(`${request.method ?? 'GET'} ${url.pathname}`);
      handler(request, response, url).catch(() => {
        response.destroy();
      });
    });
    return new Promise((resolve) => {
      server.listen(0, '127.0.0.1', () => {
        resolve(server);
      });
    });
  }

  const portOf = (server: Server): number => (server.address() as AddressInfo).port;
  let closed: Promise<void> | undefined;
  return {
    authUrl: `http://127.0.0.1:${portOf(authServer)}`,
    apiUrl: `http://127.0.0.1:${portOf(apiServer)}`,
    hosts: [`127.0.0.1:${portOf(authServer)}`, `127.0.0.1:${portOf(apiServer)}`],
    tenant,
    user: Object.keys(users)[0] ?? DEFAULT_USER,
    password: Object.values(users)[0] ?? DEFAULT_PASSWORD,
    requests: () => [...requests],
    targets: () => [...targets],
    dataCalls: () => [...dataCalls],
    outstandingTokens: () => tokens.outstanding(),
    stats: () => ({ ...stats, refusedLogins: [...stats.refusedLogins] }),
    rejectCredentials: () => {
      faults.rejectCredentials = true;
      tokens.revokeAll();
    },
    rateLimit: (retryAfterSeconds, times = Number.POSITIVE_INFINITY) => {
      faults.rateLimit = { retryAfterSeconds, remaining: times };
    },
    failWith: (status, times = Number.POSITIVE_INFINITY) => {
      faults.serverErrors = { status, remaining: times };
    },
    slowDown: (ms) => {
      faults.slowMs = ms;
    },
    shortExpiry: (ms) => {
      faults.tokenLifetimeMs = ms;
    },
    revokeTokensEvery: (calls) => {
      faults.revokeEvery = calls;
    },
    endPagesAt: (pageEnds) => {
      faults.pageEnds = pageEnds;
    },
    restore: () => {
      faults.restore();
    },
    close: () =>
      (closed ??= Promise.all(
        [authServer, apiServer].map(
          (server) =>
            new Promise<void>((resolve) => {
              closing.abort();
              server.closeAllConnections();
              server.close(() => {
                resolve();
              });
            }),
        ),
      ).then(() => undefined)),
  };
}

import { randomBytes } from 'node:crypto';

/** The Cyral simulator's switches; `restore()` turns the fault ones off. */
export class CyralFaults {
  rejectCredentials = false;
  /** Refresh grants answer `invalid_grant` (a revoked session), client credentials still work. */
  refuseRefreshTokens = false;
  /** Every data call answers this (401 or 403), whatever the token. */
  rejectTokens: number | undefined;
  rateLimit: { retryAfterSeconds: number; remaining: number } | undefined;
  serverErrors: { status: number; remaining: number } | undefined;
  /** Every `n`th data call answers 429 with `Retry-After: retryAfterSeconds`. */
  rateLimitEvery: { n: number; retryAfterSeconds: number } | undefined;
  /** Every `n`th data call answers `status` (5xx). */
  serverErrorEvery: { n: number; status: number } | undefined;
  /** The status NotFound answers carry (Cyral sometimes says NotFound with a 500). */
  notFoundStatus = 404;
  slowMs = 0;
  /** Paths that answer a status every time (a kind the API client may not read). */
  failPaths: { pattern: RegExp; status: number }[] = [];
  /** Largest page `composedBindings/filter` serves, whatever `pageSize` asks. */
  maxPageSize = 100;
  /** Data calls whose connection is cut, each consumed by the next call to a matching path. */
  drops: ConnectionDrop[] = [];
  #dataCalls = 0;

  restore(): void {
    this.rejectCredentials = false;
    this.refuseRefreshTokens = false;
    this.rejectTokens = undefined;
    this.rateLimit = undefined;
    this.serverErrors = undefined;
    this.rateLimitEvery = undefined;
    this.serverErrorEvery = undefined;
    this.failPaths = [];
    this.notFoundStatus = 404;
    this.slowMs = 0;
    this.drops = [];
  }

  /** How the connection of a call to `path` is cut, if a drop is armed for it (consumes one). */
  takeDrop(path: string): ConnectionDrop['when'] | undefined {
    const drop = this.drops.find(({ pattern, remaining }) => remaining > 0 && pattern.test(path));
    if (drop === undefined) {
      return undefined;
    }
    drop.remaining -= 1;
    return drop.when;
  }

  /** The error a data call answers instead of its data, if any is armed (consumes one). */
  takeDataFault(path: string): { status: number; retryAfterSeconds?: number } | undefined {
    this.#dataCalls += 1;
    const call = this.#dataCalls;
    const failing = this.failPaths.find(({ pattern }) => pattern.test(path));
    if (failing !== undefined) {
      return { status: failing.status };
    }
    if (this.rateLimit !== undefined && this.rateLimit.remaining > 0) {
      this.rateLimit.remaining -= 1;
      return { status: 429, retryAfterSeconds: this.rateLimit.retryAfterSeconds };
    }
    if (this.serverErrors !== undefined && this.serverErrors.remaining > 0) {
      this.serverErrors.remaining -= 1;
      return { status: this.serverErrors.status };
    }
    if (this.rateLimitEvery !== undefined && call % this.rateLimitEvery.n === 0) {
      return { status: 429, retryAfterSeconds: this.rateLimitEvery.retryAfterSeconds };
    }
    if (this.serverErrorEvery !== undefined && call % this.serverErrorEvery.n === 0) {
      return { status: this.serverErrorEvery.status };
    }
    return undefined;
  }
}

/**
 * A connection the simulator cuts: `before-answer` closes it before any byte of the answer (the
 * client sees a reset and may retry); `mid-body` sends the status, the headers and half the body
 * of the real answer, then closes it (the client sees a body cut short).
 */
export interface ConnectionDrop {
  readonly pattern: RegExp;
  readonly when: 'before-answer' | 'mid-body';
  remaining: number;
}

/** How tokens are issued; switches a test may flip between calls. */
export interface TokenPolicy {
  /** `expires_in` of access tokens, in seconds; they really expire. */
  lifetimeSeconds: number;
  /** Send `expires_in` as a string ("300"), as some control planes do. */
  expiresInAsString: boolean;
  /** Issue a refresh token with each access token. */
  issueRefreshTokens: boolean;
  /** `refresh_expires_in`, in seconds. */
  refreshLifetimeSeconds: number;
}

/** Why a bearer header was refused. */
export type TokenCheck = 'ok' | 'missing' | 'lowercase' | 'invalid' | 'expired';

/** The access and refresh tokens the simulator issued, with their expiry on its clock. */
export class CyralTokens {
  readonly #now: () => number;
  readonly #access = new Map<string, number>();
  readonly #refresh = new Map<string, number>();
  readonly issued: string[] = [];

  constructor(now: () => number) {
    this.#now = now;
  }

  /** A Keycloak token body; `token_type` is lower-case, as Cyral's documentation shows it. */
  issue(policy: TokenPolicy): Record<string, unknown> {
    const access = `sim-cyral-at.${randomBytes(18).toString('base64url')}`;
    this.#access.set(access, this.#now() + policy.lifetimeSeconds * 1000);
    this.issued.push(access);
    const body: Record<string, unknown> = {
      access_token: access,
      expires_in: policy.expiresInAsString
        ? String(policy.lifetimeSeconds)
        : policy.lifetimeSeconds,
      refresh_expires_in: policy.issueRefreshTokens ? policy.refreshLifetimeSeconds : 0,
      token_type: 'bearer',
      'not-before-policy': 0,
      scope: 'profile email',
    };
    if (policy.issueRefreshTokens) {
      const refresh = `sim-cyral-rt.${randomBytes(18).toString('base64url')}`;
      this.#refresh.set(refresh, this.#now() + policy.refreshLifetimeSeconds * 1000);
      this.issued.push(refresh);
      body['refresh_token'] = refresh;
    }
    return body;
  }

  /** Consumes a refresh token: true when it was issued here and has not expired. */
  redeem(refreshToken: string): boolean {
    const expiresAtMs = this.#refresh.get(refreshToken);
    this.#refresh.delete(refreshToken);
    return expiresAtMs !== undefined && this.#now() < expiresAtMs;
  }

  /** Checks an `Authorization` header: exactly `Bearer <token>` (capital B), issued, unexpired. */
  check(authorization: string | undefined): TokenCheck {
    if (authorization === undefined) return 'missing';
    if (authorization.startsWith('bearer ')) return 'lowercase';
    const match = /^Bearer (\S+)$/.exec(authorization);
    const expiresAtMs = match?.[1] === undefined ? undefined : this.#access.get(match[1]);
    if (expiresAtMs === undefined) return 'invalid';
    return this.#now() < expiresAtMs ? 'ok' : 'expired';
  }

  /** Every access and refresh token issued so far stops working (a rotated secret). */
  revokeAll(): void {
    for (const token of this.#access.keys()) this.#access.set(token, 0);
    this.#refresh.clear();
  }
}

/** What the simulator counted. */
export interface CyralSimulatorStats {
  clientCredentialsGrants: number;
  refreshGrants: number;
  failedGrants: number;
  /** Token requests per spelling of the client id field. */
  snakeCaseGrants: number;
  camelCaseGrants: number;
  unauthorized: number;
  expiredTokens: number;
  lowercaseBearer: number;
  rateLimited: number;
  serverErrors: number;
  notFound: number;
  /** Connections cut by a drop fault. */
  droppedConnections: number;
}

export function emptyStats(): CyralSimulatorStats {
  return {
    clientCredentialsGrants: 0,
    refreshGrants: 0,
    failedGrants: 0,
    snakeCaseGrants: 0,
    camelCaseGrants: 0,
    unauthorized: 0,
    expiredTokens: 0,
    lowercaseBearer: 0,
    rateLimited: 0,
    serverErrors: 0,
    notFound: 0,
    droppedConnections: 0,
  };
}

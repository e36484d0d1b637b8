import { randomBytes, randomUUID } from 'node:crypto';
import type { PageEnds } from './api-routes.ts';

/** Anaplan's token lifetime: 35 minutes. */
export const TOKEN_LIFETIME_MS = 35 * 60_000;

/** The simulator's switches; `restore()` turns them all off. */
export class AnaplanFaults {
  rejectCredentials = false;
  rateLimit: { retryAfterSeconds: number; remaining: number } | undefined;
  serverErrors: { status: number; remaining: number } | undefined;
  slowMs = 0;
  /** Every `n` API calls, every token issued so far is revoked (forcing a new login). */
  revokeEvery: number | undefined;
  /** Lifetime of tokens issued from now on; undefined: 35 minutes. */
  tokenLifetimeMs: number | undefined;
  /** Where pages end before `limit`; undefined: at `limit`. */
  pageEnds: PageEnds | undefined;

  restore(): void {
    this.rejectCredentials = false;
    this.rateLimit = undefined;
    this.serverErrors = undefined;
    this.slowMs = 0;
    this.revokeEvery = undefined;
    this.tokenLifetimeMs = undefined;
    this.pageEnds = undefined;
  }

  /** The error an API call answers instead of its data, if any is armed (consumes one). */
  takeApiFault(): { status: number; retryAfterSeconds?: number } | undefined {
    if (this.rateLimit !== undefined && this.rateLimit.remaining > 0) {
      this.rateLimit.remaining -= 1;
      return { status: 429, retryAfterSeconds: this.rateLimit.retryAfterSeconds };
    }
    if (this.serverErrors !== undefined && this.serverErrors.remaining > 0) {
      this.serverErrors.remaining -= 1;
      return { status: this.serverErrors.status };
    }
    return undefined;
  }
}

/** Why a token was refused. */
export type TokenCheck = 'ok' | 'missing' | 'bad-scheme' | 'unknown' | 'expired' | 'revoked';

interface IssuedToken {
  readonly tokenId: string;
  readonly refreshTokenId: string;
  expiresAtMs: number;
  revoked: boolean;
}

/** The auth tokens the simulator issued. */
export class TokenStore {
  readonly #tokens = new Map<string, IssuedToken>();
  readonly #now: () => number;

  constructor(now: () => number) {
    this.#now = now;
  }

  /** A new token, as `tokenInfo`. */
  issue(lifetimeMs: number): Record<string, unknown> {
    const value = `sim-anaplan.${randomBytes(24).toString('base64url')}`;
    const token = {
      tokenId: randomUUID(),
      refreshTokenId: randomUUID(),
      expiresAtMs: this.#now() + lifetimeMs,
      revoked: false,
    };
    this.#tokens.set(value, token);
    return tokenInfo(value, token);
  }

  /** The same token with a new expiry (Anaplan returns the same value), or undefined. */
  refresh(value: string, lifetimeMs: number): Record<string, unknown> | undefined {
    const token = this.#tokens.get(value);
    if (token === undefined || this.#state(token) !== 'ok') {
      return undefined;
    }
    token.expiresAtMs = this.#now() + lifetimeMs;
    return tokenInfo(value, token);
  }

  /** Checks `Authorization: AnaplanAuthToken <value>` and returns the value when it is ok. */
  check(authorization: string | undefined): { check: TokenCheck; value?: string } {
    if (authorization === undefined) {
      return { check: 'missing' };
    }
    const match = /^AnaplanAuthToken (\S+)$/.exec(authorization);
    if (match?.[1] === undefined) {
      return { check: 'bad-scheme' };
    }
    const token = this.#tokens.get(match[1]);
    return { check: token === undefined ? 'unknown' : this.#state(token), value: match[1] };
  }

  /** Ends a token now (logout). */
  revoke(value: string): void {
    const token = this.#tokens.get(value);
    if (token !== undefined) {
      token.revoked = true;
    }
  }

  revokeAll(): void {
    for (const token of this.#tokens.values()) {
      token.revoked = true;
    }
  }

  /** Tokens issued and not logged out (expired ones included). */
  outstanding(): number {
    return [...this.#tokens.values()].filter((token) => !token.revoked).length;
  }

  #state(token: IssuedToken): TokenCheck {
    if (token.revoked) {
      return 'revoked';
    }
    return this.#now() < token.expiresAtMs ? 'ok' : 'expired';
  }
}

function tokenInfo(value: string, token: IssuedToken): Record<string, unknown> {
  return {
    tokenId: token.tokenId,
    tokenValue: value,
    expiresAt: token.expiresAtMs,
    refreshTokenId: token.refreshTokenId,
  };
}

/** What the simulator counted. */
export interface AnaplanSimulatorStats {
  logins: number;
  basicLogins: number;
  certificateLogins: number;
  /** Why each refused login was refused, in order (e.g. `signature`, `replayed nonce`). */
  refusedLogins: string[];
  refreshes: number;
  logouts: number;
  unauthorized: number;
  rateLimited: number;
  serverErrors: number;
}

export function emptyStats(): AnaplanSimulatorStats {
  return {
    logins: 0,
    basicLogins: 0,
    certificateLogins: 0,
    refusedLogins: [],
    refreshes: 0,
    logouts: 0,
    unauthorized: 0,
    rateLimited: 0,
    serverErrors: 0,
  };
}

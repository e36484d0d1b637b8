import { randomBytes } from 'node:crypto';

/** A fault that fires on the next `remaining` streams that send `afterLines` lines. */
export interface StreamFault {
  readonly afterLines: number;
  remaining: number;
}

/** The simulator's switches; `restore()` turns them all off. */
export class CyeraFaults {
  rejectCredentials = false;
  /** Every data call answers this (401 or 403), even with a valid token. */
  rejectTokens: number | undefined;
  rateLimit: { retryAfterSeconds: number; remaining: number } | undefined;
  serverErrors: { status: number; remaining: number } | undefined;
  slowMs = 0;
  malformed: { lineNumber: number; datastoreUid: string | undefined } | undefined;
  drop: StreamFault | undefined;
  expireMidStream: StreamFault | undefined;

  restore(): void {
    this.rejectCredentials = false;
    this.rejectTokens = undefined;
    this.rateLimit = undefined;
    this.serverErrors = undefined;
    this.slowMs = 0;
    this.malformed = undefined;
    this.drop = undefined;
    this.expireMidStream = undefined;
  }

  /** The error a data call answers instead of its data, if any is armed (consumes one). */
  takeDataFault(): { status: number; retryAfterSeconds?: number } | undefined {
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

  /** True (and consumed) when `fault` is armed to fire once `linesSent` lines have been sent. */
  static fires(fault: StreamFault | undefined, linesSent: number): boolean {
    if (fault === undefined || fault.remaining <= 0 || fault.afterLines !== linesSent) {
      return false;
    }
    fault.remaining -= 1;
    return true;
  }
}

/** Why a bearer token was refused. */
export type TokenCheck = 'ok' | 'missing' | 'invalid' | 'expired';

/** The JWTs the simulator issued, with their expiry. */
export class TokenStore {
  readonly #expiresAtMs = new Map<string, number>();

  issue(expiresInSeconds: number): Record<string, unknown> {
    const jwt = `sim-jwt.${randomBytes(18).toString('base64url')}`;
    const expiresAtMs = Date.now() + expiresInSeconds * 1000;
    this.#expiresAtMs.set(jwt, expiresAtMs);
    return {
      jwt,
      refreshToken: `sim-refresh.${randomBytes(12).toString('base64url')}`,
      expiresIn: expiresInSeconds,
      expires: new Date(expiresAtMs).toUTCString(),
    };
  }

  /** Checks an `Authorization` header: exactly `Bearer <jwt>`, issued here, not expired. */
  check(authorization: string | undefined): TokenCheck {
    if (authorization === undefined) {
      return 'missing';
    }
    const match = /^Bearer (\S+)$/.exec(authorization);
    const expiresAtMs = match?.[1] === undefined ? undefined : this.#expiresAtMs.get(match[1]);
    if (expiresAtMs === undefined) {
      return 'invalid';
    }
    return Date.now() < expiresAtMs ? 'ok' : 'expired';
  }

  /** Every token issued so far stops working (expiry, rotation). */
  revokeAll(): void {
    for (const jwt of this.#expiresAtMs.keys()) {
      this.#expiresAtMs.set(jwt, 0);
    }
  }
}

/** What the simulator counted. */
export interface CyeraSimulatorStats {
  logins: number;
  failedLogins: number;
  unauthorized: number;
  rateLimited: number;
  serverErrors: number;
  streamsOpened: number;
  streamsCompleted: number;
  streamsBroken: number;
  linesStreamed: number;
  bytesStreamed: number;
}

export function emptyStats(): CyeraSimulatorStats {
  return {
    logins: 0,
    failedLogins: 0,
    unauthorized: 0,
    rateLimited: 0,
    serverErrors: 0,
    streamsOpened: 0,
    streamsCompleted: 0,
    streamsBroken: 0,
    linesStreamed: 0,
    bytesStreamed: 0,
  };
}

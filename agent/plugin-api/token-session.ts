import { isPerimeterError } from './errors.ts';
import type { ErrorCode } from './errors.ts';
import type { Logger } from './logger.ts';
import { systemClock, waitAtMost } from './timing.ts';
import type { Clock } from './timing.ts';

/** A token as a source issued it. Connectors extend it with what they need (a refresh token). */
export interface IssuedToken {
  /** When the source stops accepting it, in ms since the epoch. */
  readonly expiresAtMs: number;
}

/** How a connector logs in, renews and logs out; the session decides when. */
export interface TokenSessionOptions<T extends IssuedToken> {
  /** Names the source in logs, e.g. `Cyera`. */
  readonly source: string;
  /**
   * Obtains a token. `renewing` is the token about to expire when the session renews ahead of
   * expiry (a connector with a refresh grant uses it); undefined for a first login and after the
   * source refused a token, when only a full login will do. Throws SOURCE_AUTH_FAILED when the
   * source refuses the credentials.
   */
  obtain(renewing: T | undefined, signal: AbortSignal): Promise<T>;
  /** Revokes a token (logout). Called by {@link TokenSession.close}; failures are only logged. */
  revoke?(token: T, signal: AbortSignal): Promise<void>;
  /** The run's signal: every login waits on it. */
  readonly signal: AbortSignal;
  readonly logger: Logger;
  readonly clock?: Clock;
  /**
   * Renew at most this long before expiry. The margin is also at most a tenth of the token's
   * lifetime, so a short-lived token is still used for most of its life. @default 60_000
   */
  readonly maxRenewMarginMs?: number;
  /** Codes that mean "the source refused this token". @default ['SOURCE_AUTH_FAILED'] (a 401) */
  readonly refusedCodes?: readonly ErrorCode[];
  /** Longest wait for `revoke` at close, also after the run's signal aborted. @default 5_000 */
  readonly revokeTimeoutMs?: number;
}

interface Held<T> {
  readonly token: T;
  /** When to renew, in ms since the epoch. */
  readonly renewAtMs: number;
}

const DEFAULT_MAX_RENEW_MARGIN_MS = 60_000;
const DEFAULT_REVOKE_TIMEOUT_MS = 5_000;

/**
 * One source login for the length of a run. The token is obtained on first use and renewed
 * ahead of its expiry; callers that need a token at the same time share one login (single
 * flight). {@link withToken} repeats a call once after the source refused the token, with a
 * fresh login; a second refusal is thrown, and the run then reads its secrets again (a rotation)
 * and resumes from its last checkpoint. {@link close} logs out; it is idempotent and bounded, and
 * a connector calls it in `finally`, so the token is revoked also when the run fails or aborts.
 */
export class TokenSession<T extends IssuedToken> {
  readonly #options: TokenSessionOptions<T>;
  readonly #clock: Clock;
  #held: Held<T> | undefined;
  #pending: Promise<Held<T>> | undefined;
  #closed: Promise<void> | undefined;
  #logins = 0;

  constructor(options: TokenSessionOptions<T>) {
    this.#options = options;
    this.#clock = options.clock ?? systemClock;
  }

  /** Logins made so far (first, renewals and after refusals). */
  get logins(): number {
    return this.#logins;
  }

  /** A token that is not due for renewal, logging in or renewing first when needed. */
  async token(): Promise<T> {
    return (await this.#current()).token;
  }

  /** Forgets the token held and logs in now (a `check` of the credentials). */
  async login(): Promise<T> {
    this.#held = undefined;
    return this.token();
  }

  /**
   * Runs `call` with a valid token. When the source refuses it (a `refusedCodes` error), the
   * token is forgotten, a full login follows, and `call` runs once more; a second refusal is
   * thrown to the run.
   */
  async withToken<R>(call: (token: T) => Promise<R>): Promise<R> {
    const held = await this.#current();
    try {
      return await call(held.token);
    } catch (error) {
      if (!this.#isRefusal(error) || this.#options.signal.aborted) {
        throw error;
      }
      this.#options.logger.info(
        { source: this.#options.source, code: error.code },
        'Source refused the token; logging in again',
      );
      if (this.#held === held) {
        this.#held = undefined;
      }
      const fresh = await this.#current(false);
      return await call(fresh.token);
    }
  }

  /** Revokes the token held, if any; later calls do nothing. Never throws. */
  close(): Promise<void> {
    this.#closed ??= this.#revoke();
    return this.#closed;
  }

  async #current(renew = true): Promise<Held<T>> {
    const held = this.#held;
    if (held !== undefined && this.#clock.now() < held.renewAtMs) {
      return held;
    }
    // Single flight: callers that find the token due together share one login.
    this.#pending ??= this.#obtain(renew ? held?.token : undefined).finally(() => {
      this.#pending = undefined;
    });
    this.#held = await this.#pending;
    return this.#held;
  }

  async #obtain(renewing: T | undefined): Promise<Held<T>> {
    const obtainedAtMs = this.#clock.now();
    const token = await this.#options.obtain(renewing, this.#options.signal);
    this.#logins += 1;
    const lifetimeMs = Math.max(0, token.expiresAtMs - obtainedAtMs);
    const maxMarginMs = this.#options.maxRenewMarginMs ?? DEFAULT_MAX_RENEW_MARGIN_MS;
    const marginMs = Math.min(maxMarginMs, lifetimeMs / 10);
    this.#options.logger.debug(
      { source: this.#options.source, lifetimeMs, renewing: renewing !== undefined },
      'Obtained a source token',
    );
    return { token, renewAtMs: token.expiresAtMs - marginMs };
  }

  #isRefusal(error: unknown): error is Error & { code: ErrorCode } {
    return isPerimeterError(error, ...(this.#options.refusedCodes ?? ['SOURCE_AUTH_FAILED']));
  }

  async #revoke(): Promise<void> {
    const { logger, source } = this.#options;
    const revoke = this.#options.revoke?.bind(this.#options);
    // A login under way when the run ends still yields a token that must be revoked.
    const held = await (this.#pending ?? Promise.resolve(this.#held)).catch(() => undefined);
    this.#held = undefined;
    if (revoke === undefined || held === undefined) {
      return;
    }
    const timeoutMs = this.#options.revokeTimeoutMs ?? DEFAULT_REVOKE_TIMEOUT_MS;
    // The run's signal may already be aborted: logging out gets its own bounded time.
    const controller = new AbortController();
    try {
      const outcome = await waitAtMost(revoke(held.token, controller.signal), timeoutMs, {
        clock: this.#clock,
      });
      if (outcome.timedOut) {
        logger.warn({ source, timeoutMs }, 'Source logout did not answer in time');
      }
    } catch (error) {
      const code = isPerimeterError(error) ? error.code : undefined;
      logger.warn({ source, code }, 'Source logout failed; the token expires by itself');
    } finally {
      controller.abort();
    }
  }
}

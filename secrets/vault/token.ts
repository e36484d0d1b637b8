import {
  Backoff,
  raceAbort,
  storeClosedError,
  toPerimeterError,
} from '../../agent/plugin-api/index.ts';
import type { BackoffPolicy, Logger, PerimeterError } from '../../agent/plugin-api/index.ts';
import type { VaultApi } from './api.ts';
import { mapVaultError, vaultStatus } from './errors.ts';
import type { Login } from './login.ts';

/** Renew (or replace) a token when this fraction of its remaining TTL has passed. */
export const RENEW_FRACTION = 2 / 3;

/**
 * Waits between refused logins: jittered, at least the base, with a ceiling that doubles after
 * each further refusal up to the max (jitter spreads many agents refused together).
 */
export const LOGIN_BACKOFF: BackoffPolicy = { baseMs: 2_000, maxMs: 60_000 };

interface HeldToken {
  readonly token: string;
  readonly loginDerived: boolean;
  expiresAtMs: number | undefined;
  renewable: boolean;
  /** The TTL asked for at each renewal; a shorter grant means the max TTL is near. */
  readonly ttlSeconds: number;
  capped: boolean;
}

/** Options of {@link VaultTokenKeeper}. */
export interface TokenKeeperOptions {
  readonly login: Login;
  readonly api: VaultApi;
  readonly logger: Logger;
  /** The profile, for the error of a call after close. */
  readonly profileName: string;
  /** Bound of `close()`: waiting for a login in flight, then revoking. */
  readonly closeTimeoutMs: number;
  /** Backoff after refused logins (tests shorten it). */
  readonly loginBackoff?: BackoffPolicy;
  /** The jitter source of that backoff (tests fix it). */
  readonly random?: () => number;
}

/** A refused login, answered again without calling Vault until `retryAtMs`. */
interface LoginRefusal {
  readonly error: PerimeterError;
  readonly retryAtMs: number;
}

function expired(held: HeldToken): boolean {
  // A margin of 10% of the TTL (at most 5 s) keeps a token from expiring in flight.
  const marginMs = Math.min(5_000, held.ttlSeconds * 100);
  return held.expiresAtMs !== undefined && Date.now() >= held.expiresAtMs - marginMs;
}

function errorCode(error: unknown): string {
  return toPerimeterError(error).code;
}

/**
 * One Vault token per profile (reference §7.1): obtained once, looked up for its TTL, renewed at
 * 2/3 of it, replaced by a new login when it is not renewable, near its max TTL or its renewal
 * fails, dropped when Vault rejects it, and revoked on close when this process created it.
 */
export class VaultTokenKeeper {
  readonly #options: TokenKeeperOptions;
  #held: HeldToken | undefined;
  #pending: Promise<HeldToken> | undefined;
  #timer: NodeJS.Timeout | undefined;
  #closing: Promise<void> | undefined;
  /** Set once close stopped waiting for a login in flight. */
  #drained = false;
  #refusal: LoginRefusal | undefined;
  readonly #loginBackoff: Backoff;

  constructor(options: TokenKeeperOptions) {
    this.#options = options;
    this.#loginBackoff = new Backoff(options.loginBackoff ?? LOGIN_BACKOFF, options.random);
  }

  /** The current token, obtaining one first when there is none or it has expired. */
  async token(signal: AbortSignal): Promise<string> {
    const held = this.#held;
    if (held !== undefined && !expired(held)) {
      return held.token;
    }
    return (await raceAbort(this.#obtain(), signal)).token;
  }

  /**
   * After a 403, tells a token Vault no longer accepts (expired, revoked: dropped, so the next
   * `token()` obtains a new one) from a policy denial, which a new login would not fix.
   */
  async rejected(token: string, signal: AbortSignal): Promise<boolean> {
    try {
      await this.#options.api.lookupSelf(token, signal);
      return false;
    } catch (error) {
      if (vaultStatus(error) !== 403) {
        throw error;
      }
      if (this.#held?.token === token) {
        this.#clearTimer();
        this.#held = undefined;
      }
      return true;
    }
  }

  /** Stops renewal and revokes a token this process logged in for. Idempotent, bounded. */
  close(): Promise<void> {
    this.#closing ??= this.#shutdown();
    return this.#closing;
  }

  #obtain(): Promise<HeldToken> {
    if (this.#closing !== undefined) {
      return Promise.reject(storeClosedError('vault', this.#options.profileName));
    }
    const refusal = this.#refusal;
    if (refusal !== undefined && Date.now() < refusal.retryAtMs) {
      // A refused credential stays refused: every read asking again would be one more failed
      // login in Vault's audit log (and may lock the role), until the backoff has passed.
      return Promise.reject(refusal.error);
    }
    this.#pending ??= this.#loginAndLookup()
      .then((held) => {
        this.#refusal = undefined;
        this.#loginBackoff.reset();
        this.#install(held);
        return held;
      })
      .catch((error: unknown) => {
        this.#noteRefusal(error);
        throw error;
      })
      .finally(() => {
        this.#pending = undefined;
      });
    return this.#pending;
  }

  /** Starts or lengthens the backoff after a final (non-retryable) login failure. */
  #noteRefusal(error: unknown): void {
    const refused = mapVaultError(error, 'login');
    if (refused.retryable) {
      return;
    }
    const { baseMs } = this.#options.loginBackoff ?? LOGIN_BACKOFF;
    const delayMs = this.#loginBackoff.next({ floorMs: baseMs });
    this.#refusal = { error: refused, retryAtMs: Date.now() + delayMs };
    this.#options.logger.warn({ code: refused.code, retryInMs: delayMs }, 'vault login refused');
  }

  async #loginAndLookup(): Promise<HeldToken> {
    const { login, api, logger } = this.#options;
    const signal = AbortSignal.timeout(60_000);
    const { token, loginDerived } = await login(signal);
    const info = await api.lookupSelf(token, signal).catch((error: unknown) => {
      if (loginDerived) {
        void this.#revoke(token, AbortSignal.timeout(this.#options.closeTimeoutMs));
      }
      throw error;
    });
    const ttlSeconds = Math.max(1, info.creationTtlSeconds);
    logger.info({ loginDerived, ttlSeconds, renewable: info.renewable }, 'vault token obtained');
    return {
      token,
      loginDerived,
      expiresAtMs: info.expiresAtMs,
      renewable: info.renewable,
      ttlSeconds,
      capped: false,
    };
  }

  #install(held: HeldToken): void {
    if (this.#closing !== undefined) {
      // A login that finished after close began: its lease must not outlive the process. While
      // close still waits for it, close revokes it; after that, it is revoked here.
      if (this.#drained) {
        void this.#revoke(held.token, AbortSignal.timeout(this.#options.closeTimeoutMs));
      } else {
        this.#held = held;
      }
      return;
    }
    const previous = this.#held;
    this.#held = held;
    this.#schedule(held);
    if (previous?.loginDerived === true && previous.token !== held.token) {
      // The replaced token's lease would otherwise live on until its TTL (reference §4.5, 2).
      void this.#revoke(previous.token, AbortSignal.timeout(this.#options.closeTimeoutMs));
    }
  }

  #schedule(held: HeldToken): void {
    this.#clearTimer();
    if (held.expiresAtMs === undefined || (!held.loginDerived && !held.renewable)) {
      return;
    }
    const delayMs = Math.max(0, (held.expiresAtMs - Date.now()) * RENEW_FRACTION);
    this.#timer = setTimeout(() => void this.#maintain(held), delayMs).unref();
  }

  async #maintain(held: HeldToken): Promise<void> {
    if (held !== this.#held || this.#closing !== undefined) {
      return;
    }
    if (held.loginDerived && (held.capped || !held.renewable)) {
      await this.#relogin(held);
      return;
    }
    try {
      const renewal = await this.#options.api.renewSelf(
        held.token,
        held.ttlSeconds,
        AbortSignal.timeout(30_000),
      );
      if (renewal.leaseSeconds > 0) {
        held.expiresAtMs = Date.now() + renewal.leaseSeconds * 1000;
      }
      held.renewable = renewal.renewable && renewal.leaseSeconds > 0;
      held.capped = renewal.leaseSeconds < held.ttlSeconds;
      this.#options.logger.debug(
        { ttlSeconds: renewal.leaseSeconds, capped: held.capped },
        'vault token renewed',
      );
      this.#schedule(held);
    } catch (error) {
      this.#options.logger.warn(
        { code: errorCode(error), loginDerived: held.loginDerived },
        'vault token renewal failed',
      );
      if (held.loginDerived) {
        await this.#relogin(held);
      } else if (!expired(held)) {
        this.#schedule(held);
      }
    }
  }

  async #relogin(held: HeldToken): Promise<void> {
    try {
      await this.#obtain();
    } catch (error) {
      this.#options.logger.warn({ code: errorCode(error) }, 'vault re-login failed');
      if (held !== this.#held) {
        return;
      }
      if (expired(held)) {
        this.#held = undefined;
      } else {
        this.#schedule(held);
      }
    }
  }

  async #revoke(token: string, signal: AbortSignal): Promise<void> {
    try {
      await this.#options.api.revokeSelf(token, signal);
      this.#options.logger.debug({}, 'vault token revoked');
    } catch (error) {
      this.#options.logger.warn({ code: errorCode(error) }, 'vault token revocation failed');
    }
  }

  async #shutdown(): Promise<void> {
    this.#clearTimer();
    const signal = AbortSignal.timeout(this.#options.closeTimeoutMs);
    // A login in flight still yields a token (and a lease): wait for it, then revoke it too.
    await raceAbort(this.#pending ?? Promise.resolve(undefined), signal).catch(() => undefined);
    this.#drained = true;
    const held = this.#held;
    this.#held = undefined;
    this.#clearTimer();
    if (held?.loginDerived === true && !signal.aborted) {
      await this.#revoke(held.token, signal);
    }
  }

  #clearTimer(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}

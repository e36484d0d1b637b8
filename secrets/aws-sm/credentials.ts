import { PerimeterError, isPerimeterError } from '../../agent/plugin-api/index.ts';
import type { SecretStoreDeps } from '../../agent/plugin-api/index.ts';
import type { AwsSmAuth } from './profile.ts';

type StaticAuth = Extract<AwsSmAuth, { type: 'static' }>;

/** The identity the SDK signs with (structurally the SDK's AwsCredentialIdentity). */
export interface AwsCredentialIdentity {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string | undefined;
  readonly expiration?: Date;
}

/** How long resolved keys are used before the references are read again (rotation). */
export const STATIC_KEYS_REFRESH_MS = 5 * 60_000;
// The SDK treats an identity as expired 5 minutes before its `expiration`.
const SDK_EXPIRY_WINDOW_MS = 5 * 60_000;
const RESOLVE_TIMEOUT_MS = 30_000;

/**
 * Static access keys given as secret references. Resolved on first use and re-read every
 * {@link STATIC_KEYS_REFRESH_MS}, so a rotated key is picked up without a restart. Concurrent
 * callers share one resolution, which runs under the client's lifetime signal: one caller
 * giving up must not fail the others.
 */
export class StaticKeys {
  readonly #auth: StaticAuth;
  readonly #deps: SecretStoreDeps;
  readonly #lifetime: AbortSignal;
  readonly #refreshMs: number;
  #cached: { readonly identity: AwsCredentialIdentity; readonly loadedAt: number } | undefined;
  #pending: Promise<AwsCredentialIdentity> | undefined;

  constructor(
    auth: StaticAuth,
    deps: SecretStoreDeps,
    lifetime: AbortSignal,
    refreshMs = STATIC_KEYS_REFRESH_MS,
  ) {
    this.#auth = auth;
    this.#deps = deps;
    this.#lifetime = lifetime;
    this.#refreshMs = refreshMs;
  }

  /** The current keys; waits for a resolution when none are fresh. */
  async get(signal: AbortSignal): Promise<AwsCredentialIdentity> {
    const cached = this.#cached;
    if (cached !== undefined && Date.now() - cached.loadedAt < this.#refreshMs) {
      return cached.identity;
    }
    this.#pending ??= this.#load().finally(() => {
      this.#pending = undefined;
    });
    return raceAbort(this.#pending, signal);
  }

  async #load(): Promise<AwsCredentialIdentity> {
    const signal = AbortSignal.any([this.#lifetime, AbortSignal.timeout(RESOLVE_TIMEOUT_MS)]);
    const [accessKeyId, secretAccessKey, sessionToken] = await Promise.all([
      this.#resolve('accessKeyId', this.#auth.accessKeyId, signal),
      this.#resolve('secretAccessKey', this.#auth.secretAccessKey, signal),
      this.#auth.sessionToken === undefined
        ? undefined
        : this.#resolve('sessionToken', this.#auth.sessionToken, signal),
    ]);
    const loadedAt = Date.now();
    const identity: AwsCredentialIdentity = {
      accessKeyId,
      secretAccessKey,
      sessionToken,
      // Makes the SDK ask again once the refresh period is over.
      expiration: new Date(loadedAt + this.#refreshMs + SDK_EXPIRY_WINDOW_MS),
    };
    this.#cached = { identity, loadedAt };
    return identity;
  }

  async #resolve(key: string, ref: string, signal: AbortSignal): Promise<string> {
    try {
      const value = (await this.#deps.resolve(ref, { signal })).reveal().trim();
      this.#deps.redact(value);
      return value;
    } catch (error) {
      const inner = isPerimeterError(error) ? error : undefined;
      throw new PerimeterError(
        inner?.code ?? 'SECRET_UNAVAILABLE',
        `The aws-sm profile ${this.#deps.profileName} could not resolve auth.${key} (${ref}): ${inner?.message ?? 'unexpected error'}`,
        {
          cause: error,
          retryable: inner?.retryable,
          retryAfterMs: inner?.retryAfterMs,
          context: { store: 'aws-sm', profile: this.#deps.profileName, key: `auth.${key}` },
        },
      );
    }
  }
}

/** Settles with `promise`, or rejects with the signal's reason as soon as it aborts. */
export async function raceAbort<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  signal.throwIfAborted();
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => {
      reject(signal.reason as Error);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    return await Promise.race([promise, aborted]);
  } finally {
    if (onAbort !== undefined) {
      signal.removeEventListener('abort', onAbort);
    }
  }
}

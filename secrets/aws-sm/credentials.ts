import { raceAbort, resolveCredential } from '../../agent/plugin-api/index.ts';
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
    const signal = this.#lifetime;
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

  #resolve(key: string, ref: string, signal: AbortSignal): Promise<string> {
    return resolveCredential(this.#deps, { scheme: 'aws-sm', key, ref }, signal);
  }
}

import { randomBytes } from 'node:crypto';

/** What an access token the fakes issued stands for. */
export interface IssuedToken {
  readonly tenantId: string;
  readonly clientId: string;
  /** The resource: the scope without `/.default`. */
  readonly audience: string;
  readonly expiresAt: number;
}

/**
 * The access tokens issued by the Entra and managed-identity fakes, so the Key Vault fake can
 * check the bearer tokens it receives (audience, tenant, expiry) without real JWT signing. The
 * tokens are opaque to the SDK, as real access tokens are meant to be.
 */
export class TokenRegistry {
  readonly #tokens = new Map<string, IssuedToken>();

  /** Issues a token and returns it. */
  issue(token: IssuedToken): string {
    const value = `fake-at.${randomBytes(24).toString('base64url')}`;
    this.#tokens.set(value, token);
    return value;
  }

  /** What the token stands for, or undefined for a token never issued. */
  lookup(value: string): IssuedToken | undefined {
    return this.#tokens.get(value);
  }

  /** Every issued token value (for leak scans). */
  values(): string[] {
    return [...this.#tokens.keys()];
  }
}

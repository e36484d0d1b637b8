import { randomBytes } from 'node:crypto';

interface StoredVersion {
  readonly version: string;
  readonly value: string;
  readonly contentType: string | undefined;
  readonly created: number;
  enabled: boolean;
}

/** A Key Vault error answer: status, `error.code`, message and the optional inner error code. */
export class VaultError extends Error {
  readonly status: number;
  readonly code: string;
  readonly inner: string | undefined;
  constructor(status: number, code: string, message: string, inner?: string) {
    super(message);
    this.status = status;
    this.code = code;
    this.inner = inner;
  }
}

/**
 * What the Key Vault fake holds: secrets with their versions (32 hex), disabled versions and
 * per-secret denies, and GetSecret over that state with Key Vault's error shapes. Names are
 * case-insensitive, as in Key Vault.
 */
export class KeyVaultState {
  readonly #secrets = new Map<string, StoredVersion[]>();
  readonly #denied = new Set<string>();

  /** Sets a secret's value: a new version that becomes the latest. Returns the version id. */
  put(name: string, value: string, contentType?: string): string {
    const version = randomBytes(16).toString('hex');
    const versions = this.#secrets.get(name.toLowerCase()) ?? [];
    versions.push({
      version,
      value,
      contentType,
      created: Math.floor(Date.now() / 1000),
      enabled: true,
    });
    this.#secrets.set(name.toLowerCase(), versions);
    return version;
  }

  /** Disables a version (the latest when none is given). */
  disable(name: string, version?: string): void {
    const versions = this.#secrets.get(name.toLowerCase()) ?? [];
    const target =
      version === undefined ? versions.at(-1) : versions.find((v) => v.version === version);
    if (target === undefined) {
      throw new Error(`The fake holds no secret ${name}`);
    }
    target.enabled = false;
  }

  /** Deletes a secret (soft delete: reads answer 404). */
  remove(name: string): void {
    this.#secrets.delete(name.toLowerCase());
  }

  /** Refuses reads of this secret with 403 ForbiddenByRbac (no role assignment for it). */
  deny(name: string): void {
    this.#denied.add(name.toLowerCase());
  }

  /** GetSecret's body for `name` (latest or `version`) on the vault at `origin`; throws VaultError. */
  getSecret(name: string, version: string | undefined, origin: string): Record<string, unknown> {
    // RBAC comes first: a caller without the role learns nothing about existence.
    if (this.#denied.has(name.toLowerCase())) {
      throw new VaultError(
        403,
        'Forbidden',
        'Caller is not authorized to perform action on resource. Action: Microsoft.KeyVault/vaults/secrets/getSecret/action',
        'ForbiddenByRbac',
      );
    }
    const versions = this.#secrets.get(name.toLowerCase());
    const stored =
      version === undefined
        ? versions?.at(-1)
        : versions?.find((v) => v.version === version.toLowerCase());
    if (stored === undefined) {
      const id = version === undefined ? name : `${name}/${version}`;
      throw new VaultError(
        404,
        'SecretNotFound',
        `A secret with (name/id) ${id} was not found in this key vault. If you recently deleted this secret you may be able to recover it using the correct recovery command.`,
      );
    }
    if (!stored.enabled) {
      throw new VaultError(
        403,
        'Forbidden',
        'Operation get is not allowed on a disabled secret.',
        'SecretDisabled',
      );
    }
    return {
      value: stored.value,
      ...(stored.contentType === undefined ? {} : { contentType: stored.contentType }),
      id: `${origin}/secrets/${name.toLowerCase()}/${stored.version}`,
      attributes: {
        enabled: true,
        created: stored.created,
        updated: stored.created,
        recoveryLevel: 'Recoverable+Purgeable',
        recoverableDays: 90,
      },
      tags: {},
    };
  }
}

import { randomBytes, randomUUID } from 'node:crypto';

/** A token as the fake keeps it. TTLs are real: an expired token is refused like a revoked one. */
export interface FakeToken {
  readonly id: string;
  readonly accessor: string;
  readonly namespace: string;
  /** Policy paths (`secret/data/app/*`, `+` for one segment), full paths including the namespace. */
  readonly policies: readonly string[];
  readonly creationTtlSeconds: number;
  readonly issuedAtMs: number;
  expiresAtMs: number | undefined;
  readonly maxExpiresAtMs: number | undefined;
  readonly renewable: boolean;
  revoked: boolean;
}

/** What a role grants at login. */
export interface RoleGrant {
  readonly policies: readonly string[];
  /** Token TTL in seconds (0: no expiry). */
  readonly ttlSeconds: number;
  /** Max TTL in seconds, which renewals cannot pass (0: none). */
  readonly maxTtlSeconds?: number;
  readonly renewable?: boolean;
}

interface Role extends RoleGrant {
  /** The AppRole secret ids or the Kubernetes service-account JWTs it accepts. */
  readonly credentials: Set<string>;
}

/** Parses Vault's duration forms: `30`, `30s`, `5m`, `1h`. */
function parseDuration(raw: unknown): number | undefined {
  const match = /^(\d+)([smh]?)$/.exec(
    typeof raw === 'string' || typeof raw === 'number' ? String(raw) : '',
  );
  if (match === null) {
    return undefined;
  }
  const unit = { '': 1, s: 1, m: 60, h: 3600 }[match[2] as '' | 's' | 'm' | 'h'];
  return Number(match[1]) * unit;
}

/** Token store and login roles of the fake (AppRole and Kubernetes auth methods). */
export class FakeVaultTokens {
  readonly #tokens = new Map<string, FakeToken>();
  readonly #roles = new Map<string, Role>();

  /** Creates a token directly (what `vault token create` or Vault Agent would hand over). */
  create(grant: RoleGrant & { readonly namespace?: string }): FakeToken {
    const now = Date.now();
    const token: FakeToken = {
      id: `hvs.${randomBytes(18).toString('base64url')}`,
      accessor: randomUUID(),
      namespace: grant.namespace ?? '',
      policies: grant.policies,
      creationTtlSeconds: grant.ttlSeconds,
      issuedAtMs: now,
      expiresAtMs: grant.ttlSeconds > 0 ? now + grant.ttlSeconds * 1000 : undefined,
      maxExpiresAtMs: grant.maxTtlSeconds ? now + grant.maxTtlSeconds * 1000 : undefined,
      renewable: grant.renewable ?? true,
      revoked: false,
    };
    this.#tokens.set(token.id, token);
    return token;
  }

  /** Registers a role under an auth mount (`<namespace>|<mount>|<role>`). */
  addRole(key: string, grant: RoleGrant, credential: string): void {
    const role = this.#roles.get(key) ?? { ...grant, credentials: new Set<string>() };
    role.credentials.add(credential);
    this.#roles.set(key, role);
  }

  /** Logs in with a role's credential; undefined when the role or credential is unknown. */
  login(key: string, credential: string, namespace: string): FakeToken | undefined {
    const role = this.#roles.get(key);
    if (!role?.credentials.has(credential)) {
      return undefined;
    }
    return this.create({ ...role, namespace });
  }

  /** The live token with this id, or undefined (unknown, revoked or expired). */
  live(id: string | undefined): FakeToken | undefined {
    const token = id === undefined ? undefined : this.#tokens.get(id);
    if (token === undefined || token.revoked) {
      return undefined;
    }
    return token.expiresAtMs === undefined || Date.now() < token.expiresAtMs ? token : undefined;
  }

  /** Renews a token; the grant never passes its max TTL. Returns the new TTL in seconds. */
  renew(token: FakeToken, increment: unknown): { ttlSeconds: number; capped: boolean } {
    const wanted = parseDuration(increment) ?? token.creationTtlSeconds;
    const now = Date.now();
    let expiresAtMs = now + wanted * 1000;
    const capped = token.maxExpiresAtMs !== undefined && expiresAtMs > token.maxExpiresAtMs;
    if (capped) {
      expiresAtMs = token.maxExpiresAtMs!;
    }
    token.expiresAtMs = expiresAtMs;
    return { ttlSeconds: Math.max(0, Math.floor((expiresAtMs - now) / 1000)), capped };
  }

  /** Every token id issued, in order. */
  issued(): string[] {
    return [...this.#tokens.keys()];
  }

  /** Revokes every token (an operator's `vault token revoke`, or a restored snapshot). */
  revokeAll(): void {
    for (const token of this.#tokens.values()) {
      token.revoked = true;
    }
  }

  /** Tokens issued and not yet revoked or expired (leaked leases show up here). */
  liveCount(): number {
    return [...this.#tokens.keys()].filter((id) => this.live(id) !== undefined).length;
  }
}

/** True when a policy path pattern grants `path` (`*` suffix: prefix; `+`: one segment). */
export function policyAllows(patterns: readonly string[], path: string): boolean {
  return patterns.some((pattern) => {
    const prefix = pattern.endsWith('*');
    const parts = (prefix ? pattern.slice(0, -1) : pattern).split('/');
    const target = path.split('/');
    const fixed = parts.length - 1;
    for (let index = 0; index < fixed; index += 1) {
      if (parts[index] !== '+' && parts[index] !== target[index]) {
        return false;
      }
    }
    const rest = target.slice(fixed).join('/');
    const last = parts[fixed] ?? '';
    return prefix ? rest.startsWith(last) : rest === last && target.length === parts.length;
  });
}

import { randomBytes } from 'node:crypto';
import { startLoopbackServer } from '../../helpers/fake-server.ts';
import type { ServerTls } from '../../helpers/fake-server.ts';
import { FakeKv } from './kv.ts';
import { createVaultHandler } from './server.ts';
import type { VaultCallCounts, VaultFaults } from './server.ts';
import { FakeVaultTokens } from './tokens.ts';
import type { RoleGrant } from './tokens.ts';

export type { VaultCallCounts } from './server.ts';
export type { RoleGrant } from './tokens.ts';

/** Where a role or mount lives. */
interface Placement {
  readonly namespace?: string;
  readonly mount?: string;
}

/** A running Vault fake (HTTP API v1, KV v1/v2, token/AppRole/Kubernetes auth, namespaces). */
export interface VaultFake {
  /** `http(s)://127.0.0.1:<port>` */
  readonly address: string;
  readonly counts: VaultCallCounts;
  readonly faults: VaultFaults;
  /** X-Vault-Namespace of every KV read, in order ('' when absent). */
  readonly readNamespaces: readonly string[];
  /** Mounts a KV engine at `path` (several segments allowed) in `namespace`. */
  mountKv(path: string, version: 1 | 2, namespace?: string): void;
  /** Writes a KV v2 secret; returns its new version. */
  putKv2(mount: string, path: string, data: Record<string, unknown>, namespace?: string): number;
  putKv1(mount: string, path: string, data: Record<string, unknown>, namespace?: string): void;
  /** Deletes a KV v2 secret with every version and its metadata. */
  removeKv2(mount: string, path: string, namespace?: string): void;
  /** Soft-deletes (or destroys) a KV v2 version. */
  deleteKv2Version(
    mount: string,
    path: string,
    version: number,
    options?: { destroy?: boolean; namespace?: string },
  ): void;
  /** Creates a token directly, as an operator or Vault Agent would; returns its id. */
  createToken(grant: RoleGrant & { namespace?: string }): string;
  /** Adds an AppRole role; returns its role id and a secret id. */
  addAppRole(grant: RoleGrant, placement?: Placement): { roleId: string; secretId: string };
  /** Adds a Kubernetes role accepting `jwt`. */
  addKubernetesRole(role: string, jwt: string, grant: RoleGrant, placement?: Placement): void;
  /** Tokens alive now (issued, not revoked, not expired): leaked leases show here. */
  liveTokens(): number;
  /** Every token id issued so far (created or by login). */
  issuedTokens(): readonly string[];
  /** Revokes every token behind the client's back. */
  revokeAllTokens(): void;
  /** Back to no faults. */
  restore(): void;
  /** Stops listening: every connection is refused until `listen()`. */
  unlisten(): Promise<void>;
  /** Listens again on the same port (same tokens and secrets). */
  listen(): Promise<void>;
  close(): Promise<void>;
}

/** The fault switches with every fault off. */
function noFaults(): VaultFaults {
  return {
    failReads: 0,
    failAll: false,
    status: 503,
    sealed: false,
    failRenewals: false,
    delayMs: 0,
    authDelayMs: 0,
  };
}

function full(namespace: string | undefined, path: string): string {
  return namespace === undefined || namespace === '' ? path : `${namespace}/${path}`;
}

/** Starts the fake on a loopback port; `tls` serves https with that certificate. */
export async function startVaultFake(options: { tls?: ServerTls } = {}): Promise<VaultFake> {
  const kv = new FakeKv();
  const tokens = new FakeVaultTokens();
  const counts: VaultCallCounts = {
    logins: 0,
    lookups: 0,
    renewals: 0,
    revocations: 0,
    reads: 0,
    held: 0,
  };
  const faults = noFaults();
  const authMounts = new Map<string, 'approle' | 'kubernetes'>();
  const readNamespaces: string[] = [];
  const shutdown = new AbortController();
  const handler = createVaultHandler({
    kv,
    tokens,
    counts,
    faults,
    authMounts,
    readNamespaces,
    shutdown: shutdown.signal,
  });
  let server = await startLoopbackServer(handler, options.tls);
  return {
    address: server.url,
    counts,
    faults,
    readNamespaces,
    mountKv: (path, version, namespace) => {
      kv.mount(full(namespace, path), version);
    },
    putKv2: (mount, path, data, namespace) => kv.putV2(full(namespace, mount), path, data),
    putKv1: (mount, path, data, namespace) => {
      kv.putV1(full(namespace, mount), path, data);
    },
    removeKv2: (mount, path, namespace) => {
      kv.removeAllV2(full(namespace, mount), path);
    },
    deleteKv2Version: (mount, path, version, remove = {}) => {
      kv.removeV2(full(remove.namespace, mount), path, version, remove.destroy ?? false);
    },
    createToken: (grant) => tokens.create(grant).id,
    addAppRole: (grant, placement = {}) => {
      const mount = placement.mount ?? 'approle';
      const roleId = `role-${randomBytes(6).toString('hex')}`;
      const secretId = randomBytes(16).toString('hex');
      authMounts.set(`${placement.namespace ?? ''}|${mount}`, 'approle');
      tokens.addRole(`${placement.namespace ?? ''}|${mount}|${roleId}`, grant, secretId);
      return { roleId, secretId };
    },
    addKubernetesRole: (role, jwt, grant, placement = {}) => {
      const mount = placement.mount ?? 'kubernetes';
      authMounts.set(`${placement.namespace ?? ''}|${mount}`, 'kubernetes');
      tokens.addRole(`${placement.namespace ?? ''}|${mount}|${role}`, grant, jwt);
    },
    liveTokens: () => tokens.liveCount(),
    issuedTokens: () => tokens.issued(),
    revokeAllTokens: () => {
      tokens.revokeAll();
    },
    restore: () => {
      Object.assign(faults, noFaults());
    },
    unlisten: () => server.close(),
    listen: async () => {
      server = await startLoopbackServer(handler, options.tls, server.port);
    },
    close: async () => {
      shutdown.abort();
      await server.close();
    },
  };
}

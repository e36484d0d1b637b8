import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { CanonicalSecretRef, SecretStoreClient } from '../../agent/plugin-api/index.ts';
import { parseSecretRef } from '../../agent/secrets/ref.ts';
import { testStoreDeps } from '../../test/helpers/store-deps.ts';
import type { TestStoreDeps } from '../../test/helpers/store-deps.ts';
import { containing } from '../../test/helpers/matchers.ts';
import { startConnectProxy } from '../../test/helpers/connect-proxy.ts';
import { startVaultFake } from '../../test/fakes/vault/fake.ts';
import type { VaultFake } from '../../test/fakes/vault/fake.ts';
import { findCanary, makeCanary } from '../../test/helpers/canary.ts';
import { openStore } from '../../test/helpers/store-client.ts';
import { waitFor } from '../../test/helpers/wait-for.ts';
import { testPki } from '../../test/helpers/tls.ts';
import { vaultStore } from './index.ts';
import { VaultProfileSchema } from './profile.ts';

let fake: VaultFake;
let token: string;
const canary = makeCanary('vault');

beforeAll(async () => {
  fake = await startVaultFake();
  fake.mountKv('secret', 2);
  fake.mountKv('kv', 1);
  fake.mountKv('team/kv', 2);
  fake.mountKv('secret', 2, 'admin/team-a');
  token = fake.createToken({
    policies: ['secret/data/apps/*', 'kv/*', 'team/kv/data/*', 'admin/team-a/secret/data/*'],
    ttlSeconds: 0,
  });
  fake.putKv2('secret', 'apps/db', { user: 'app', password: canary });
  fake.putKv2('secret', 'apps/db', { user: 'app', password: 'rotated' });
  fake.putKv1('kv', 'legacy/db', { password: 'v1-value' });
  fake.putKv2('team/kv', 'apps/db', { password: 'team' });
  fake.putKv2('secret', 'apps/db', { password: 'namespaced' }, 'admin/team-a');
  fake.putKv2('secret', 'apps/odd?name#x/100%', { password: 'odd' });
  fake.putKv2('secret', 'denied/db', { password: 'nope' });
});
afterAll(async () => {
  await fake.close();
});
afterEach(() => {
  fake.restore();
});

interface Harness {
  readonly client: SecretStoreClient;
  readonly kit: TestStoreDeps;
  /** Reads `vault://<text>` through the real reference parser, canonicalize and fetch. */
  read(text: string, signal?: AbortSignal): ReturnType<SecretStoreClient['fetch']>;
}

/** Parses and canonicalizes `vault://<text>` as the resolver would. */
function canonical(client: SecretStoreClient, text: string): CanonicalSecretRef {
  return client.canonicalize(parseSecretRef(`vault://${text}`, [vaultStore]));
}

function harness(
  settings: Record<string, unknown> = {},
  network: { extraCaPem?: string } = {},
): Harness {
  const kit = testStoreDeps({ references: { 'file:///vault/token': `${token}\n` }, network });
  const profile = {
    address: fake.address,
    auth: { type: 'token', token: 'file:///vault/token' },
    requestTimeoutMs: 2_000,
    ...settings,
  };
  const { client, read } = openStore(vaultStore, profile, kit.deps);
  return {
    client,
    kit,
    read: (text, signal = AbortSignal.timeout(5_000)) => read(`vault://${text}`, signal),
  };
}

describe('vault reads', () => {
  let h: Harness;
  beforeAll(() => {
    h = harness();
  });
  afterAll(async () => {
    await h.client.close();
  });

  it('returns the KV v2 fields as JSON with the version read', async () => {
    const fetched = await h.read('secret/apps/db');
    expect(JSON.parse(fetched.value.toString())).toEqual({ user: 'app', password: 'rotated' });
    expect(fetched.versionId).toBe('2');
  });

  it('reads a pinned KV v2 version', async () => {
    const fetched = await h.read('secret/data/apps/db?version=1');
    expect(JSON.parse(fetched.value.toString())).toEqual({ user: 'app', password: canary });
    expect(fetched.versionId).toBe('1');
  });

  it('reads KV v1 without a version and without treating lease_duration as a lease', async () => {
    const fetched = await h.read('kv/legacy/db?kv=1');
    expect(JSON.parse(fetched.value.toString())).toEqual({ password: 'v1-value' });
    expect(fetched).toMatchObject({ versionId: undefined });
    expect(fetched.leaseSeconds).toBeUndefined();
  });

  it('reads from a multi-segment mount', async () => {
    const fetched = await h.read('apps/db?mount=team/kv');
    expect(JSON.parse(fetched.value.toString())).toEqual({ password: 'team' });
  });

  it('sends the namespace as X-Vault-Namespace', async () => {
    const fetched = await h.read('secret/apps/db?namespace=admin/team-a');
    expect(JSON.parse(fetched.value.toString())).toEqual({ password: 'namespaced' });
    expect(fake.readNamespaces.at(-1)).toBe('admin/team-a');
  });

  it('reads a path holding ?, # and % characters', async () => {
    const fetched = await h.read('secret/apps/odd%3Fname%23x/100%25');
    expect(JSON.parse(fetched.value.toString())).toEqual({ password: 'odd' });
  });

  it('returns one field alone with ?field=: strings as is, other values as JSON', async () => {
    fake.putKv2('secret', 'apps/tls', {
      'key.pem': 'LS0tLS1CRUdJTg==',
      port: 8443,
      alt: ['a', 'b'],
    });
    const pem = await h.read('secret/apps/tls?field=key.pem');
    expect(pem.value.toString()).toBe('LS0tLS1CRUdJTg==');
    expect((await h.read('secret/apps/tls?field=alt')).value.toString()).toBe('["a","b"]');
    await expect(h.read('secret/apps/tls?field=cert.pem')).rejects.toMatchObject({
      code: 'SECRET_SELECTOR_INVALID',
      message: containing('cert.pem'),
    });
  });

  it('maps a missing path to SECRET_NOT_FOUND', async () => {
    await expect(h.read('secret/apps/absent')).rejects.toMatchObject({
      code: 'SECRET_NOT_FOUND',
      context: { store: 'vault', locator: 'secret/data/apps/absent', status: 404 },
    });
  });

  it.each([false, true])(
    'tells a deleted version (destroyed: %s) from a missing path',
    async (destroy) => {
      const path = `apps/removed-${String(destroy)}`;
      fake.putKv2('secret', path, { password: 'old' });
      fake.putKv2('secret', path, { password: 'new' });
      fake.deleteKv2Version('secret', path, 1, { destroy });
      await expect(h.read(`secret/${path}?version=1`)).rejects.toMatchObject({
        code: 'SECRET_NOT_FOUND',
        message: containing(destroy ? 'destroyed' : 'deleted'),
      });
      expect(JSON.parse((await h.read(`secret/${path}`)).value.toString())).toEqual({
        password: 'new',
      });
    },
  );

  it('maps a policy denial to SECRET_ACCESS_DENIED without obtaining another token', async () => {
    const lookups = fake.counts.lookups;
    await expect(h.read('secret/denied/db')).rejects.toMatchObject({
      code: 'SECRET_ACCESS_DENIED',
      context: { status: 403 },
    });
    // One lookup-self tells the denial from a dead token; the token is not re-read.
    expect(fake.counts.lookups - lookups).toBe(1);
    expect(h.kit.resolved).toEqual(['file:///vault/token']);
  });

  it.each([
    ['sealed', 503],
    ['rate-limited', 429],
    ['failing', 500],
  ] as const)('maps a %s Vault (%i) to a retryable SECRET_UNAVAILABLE', async (_label, status) => {
    if (status === 503) {
      fake.faults.sealed = true;
    } else {
      Object.assign(fake.faults, { failReads: 1, status });
    }
    await expect(h.read('secret/apps/db')).rejects.toMatchObject({
      code: 'SECRET_UNAVAILABLE',
      retryable: true,
    });
  });

  it('stops waiting as soon as the signal aborts', async () => {
    // Held longer than the test may run: only giving up on the abort lets it pass.
    fake.faults.delayMs = 60_000;
    const reason = new Error('cancelled');
    const controller = new AbortController();
    const held = fake.counts.held;
    const pending = h.read('secret/apps/db', controller.signal);
    await waitFor(() => fake.counts.held > held, { what: 'the read to reach Vault' });
    controller.abort(reason);
    await expect(pending).rejects.toBe(reason);
  });

  it('never logs a value and logs each read with its canonical locator', async () => {
    await h.read('secret/apps/db?version=1');
    expect(findCanary(canary, { logs: h.kit.logs.text() })).toEqual([]);
    expect(h.kit.logs.records()).toContainEqual(
      expect.objectContaining({
        msg: 'secret read',
        locator: 'secret/data/apps/db',
        outcome: 'ok',
      }),
    );
    expect(h.kit.logs.redactor.redact(token)).toBe('[redacted]');
  });
});

describe('vault client settings', () => {
  it('ignores VAULT_TOKEN, VAULT_NAMESPACE and VAULT_PREFIX from the environment', async () => {
    const saved = { ...process.env };
    Object.assign(process.env, {
      VAULT_TOKEN: 'hvs.from-env',
      VAULT_NAMESPACE: 'admin/team-a',
      VAULT_PREFIX: '/prefix',
    });
    try {
      const h = harness();
      expect(JSON.parse((await h.read('secret/apps/db')).value.toString())).toMatchObject({
        password: 'rotated',
      });
      expect(fake.readNamespaces.at(-1)).toBe('');
      await h.client.close();
    } finally {
      for (const name of ['VAULT_TOKEN', 'VAULT_NAMESPACE', 'VAULT_PREFIX']) {
        if (saved[name] === undefined) {
          Reflect.deleteProperty(process.env, name);
        }
      }
    }
  });

  it('times a request out after requestTimeoutMs as a retryable error', async () => {
    fake.faults.delayMs = 1_000;
    const h = harness({ requestTimeoutMs: 200 });
    await expect(h.read('secret/apps/db')).rejects.toMatchObject({
      code: 'SECRET_UNAVAILABLE',
      retryable: true,
    });
    await h.client.close();
  });

  it('refuses a plain-http address that is not loopback', () => {
    const result = VaultProfileSchema.safeParse({
      address: 'http://vault.example.com:8200',
      auth: { type: 'token', token: 'env://T' },
    });
    expect(result.success).toBe(false);
  });

  it('refuses a literal token in the profile', () => {
    const result = VaultProfileSchema.safeParse({
      address: fake.address,
      auth: { type: 'token', token: 'hvs.literal' },
    });
    expect(result.success).toBe(false);
  });
});

describe('vault over TLS', () => {
  const pki = testPki();
  let httpsFake: VaultFake;
  let tlsToken: string;
  beforeAll(async () => {
    httpsFake = await startVaultFake({
      tls: { certPem: pki.serverCertPem, keyPem: pki.serverKeyPem },
    });
    httpsFake.mountKv('secret', 2);
    httpsFake.putKv2('secret', 'tls/db', { password: 'tls' });
    tlsToken = httpsFake.createToken({ policies: ['secret/data/*'], ttlSeconds: 0 });
  });
  afterAll(async () => {
    await httpsFake.close();
  });

  function tlsClient(
    settings: Record<string, unknown>,
    extraCaPem?: string,
    proxy: { httpsProxy?: string; noProxy?: string } = {},
  ): SecretStoreClient {
    const kit = testStoreDeps({
      references: { 'env://T': tlsToken },
      network: { extraCaPem, ...proxy },
    });
    const profile = VaultProfileSchema.parse({
      address: httpsFake.address,
      auth: { type: 'token', token: 'env://T' },
      ...settings,
    });
    return vaultStore.create(profile, kit.deps);
  }

  it.each([
    ['the profile caFile', { caFile: pki.caFile }, undefined],
    ['the agent extra CA', {}, pki.caPem],
  ])('trusts %s', async (_label, settings, extraCaPem) => {
    const client = tlsClient(settings, extraCaPem);
    const fetched = await client.fetch(canonical(client, 'secret/tls/db'), {
      signal: AbortSignal.timeout(5_000),
    });
    expect(JSON.parse(fetched.value.toString())).toEqual({ password: 'tls' });
    await client.close();
  });

  it('keeps verifying certificates even when VAULT_SKIP_VERIFY is set', async () => {
    process.env['VAULT_SKIP_VERIFY'] = 'true';
    try {
      const client = tlsClient({});
      await expect(
        client.fetch(canonical(client, 'secret/tls/db'), {
          signal: AbortSignal.timeout(5_000),
        }),
      ).rejects.toMatchObject({ code: 'TLS_UNTRUSTED' });
      await client.close();
    } finally {
      delete process.env['VAULT_SKIP_VERIFY'];
    }
  });

  it('tunnels through the agent https proxy, except for no-proxy hosts', async () => {
    const egress = await startConnectProxy();
    try {
      const signal = AbortSignal.timeout(5_000);
      const proxied = tlsClient({}, pki.caPem, { httpsProxy: egress.url });
      await proxied.fetch(canonical(proxied, 'secret/tls/db'), { signal });
      // The token lookup and the read share one tunnel (keep-alive).
      expect(new Set(egress.tunnels)).toEqual(new Set([new URL(httpsFake.address).host]));
      await proxied.close();
      const before = egress.tunnels.length;
      const direct = tlsClient({}, pki.caPem, { httpsProxy: egress.url, noProxy: '127.0.0.1' });
      await direct.fetch(canonical(direct, 'secret/tls/db'), { signal });
      expect(egress.tunnels).toHaveLength(before);
      await direct.close();
    } finally {
      await egress.close();
    }
  });
});

import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type { SecretStoreClient } from '../../agent/plugin-api/index.ts';
import { parseSecretRef } from '../../agent/secrets/ref.ts';
import { testStoreDeps } from '../../test/helpers/store-deps.ts';
import type { TestStoreDeps } from '../../test/helpers/store-deps.ts';
import { containing } from '../../test/helpers/matchers.ts';
import { startVaultFake } from '../../test/fakes/vault/fake.ts';
import type { RoleGrant, VaultFake } from '../../test/fakes/vault/fake.ts';
import { waitFor } from '../../test/helpers/wait-for.ts';
import { vaultStore } from './index.ts';
import { VaultProfileSchema } from './profile.ts';
import { tempDir } from '../../test/helpers/temp-dir.ts';

const POLICY = ['secret/data/apps/*'];
let fake: VaultFake;
let dir: string;
let client: SecretStoreClient | undefined;

beforeAll(() => {
  dir = tempDir('vault');
});
beforeEach(async () => {
  fake = await startVaultFake();
  fake.mountKv('secret', 2);
  fake.putKv2('secret', 'apps/db', { password: 'p' });
});
afterEach(async () => {
  await client?.close();
  client = undefined;
  await fake.close();
});

/** A client logging in with AppRole; `wrongSecretId` makes the referenced secret id one Vault refuses. */
function approle(
  grant: RoleGrant,
  settings: Record<string, unknown> = {},
  wrongSecretId?: string,
): TestStoreDeps {
  const { roleId, secretId } = fake.addAppRole(grant);
  const kit = testStoreDeps({
    references: { 'file:///vault/secret-id': wrongSecretId ?? secretId },
  });
  const profile = VaultProfileSchema.parse({
    address: fake.address,
    auth: { type: 'approle', roleId, secretId: 'file:///vault/secret-id' },
    ...settings,
  });
  client = vaultStore.create(profile, kit.deps);
  return kit;
}

async function read(signal = AbortSignal.timeout(5_000)): Promise<string> {
  const store = client!;
  const fetched = await store.fetch(
    store.canonicalize(parseSecretRef('vault://secret/apps/db', [vaultStore])),
    {
      signal,
    },
  );
  return fetched.value.toString();
}

/** Every value is registered with the log redactor. */
function expectRedacted(kit: TestStoreDeps, values: readonly string[]): void {
  expect(values.length).toBeGreaterThan(0);
  for (const value of values) {
    expect(kit.logs.redactor.redact(value)).toBe('[redacted]');
  }
}

/**
 * Reads every `intervalMs` for `durationMs` of faked time: the clock (of the keeper and of the
 * fake's token TTLs) and the keeper's renewal timers move only here, so a busy machine cannot
 * make a token expire in flight. Every read must succeed.
 */
async function readFor(durationMs: number, intervalMs = 50): Promise<number> {
  vi.useFakeTimers({ toFake: ['Date', 'setTimeout', 'clearTimeout'] });
  try {
    let reads = 0;
    for (let elapsedMs = 0; elapsedMs < durationMs; elapsedMs += intervalMs) {
      expect(await read()).toBe('{"password":"p"}');
      reads += 1;
      await vi.advanceTimersByTimeAsync(intervalMs);
    }
    return reads;
  } finally {
    vi.useRealTimers();
  }
}

describe('vault AppRole login', () => {
  it('logs in once across many reads, looks the token up once and revokes it on close', async () => {
    const kit = approle({ policies: POLICY, ttlSeconds: 3600 });
    await Promise.all(Array.from({ length: 10 }, () => read()));
    for (let index = 0; index < 40; index += 1) {
      await read();
    }
    expect(fake.counts).toMatchObject({ logins: 1, lookups: 1, reads: 50, revocations: 0 });
    expectRedacted(kit, fake.issuedTokens());
    await client!.close();
    await client!.close();
    expect(fake.counts.revocations).toBe(1);
    expect(fake.liveTokens()).toBe(0);
  });

  it('keeps reads working across token expiry: renews at 2/3 of the TTL, logs in again at the max TTL', async () => {
    const kit = approle({ policies: POLICY, ttlSeconds: 1, maxTtlSeconds: 2 });
    const reads = await readFor(2_400);
    expect(reads).toBe(48);
    expect(fake.counts.renewals).toBeGreaterThanOrEqual(2);
    expect(fake.counts.logins).toBeGreaterThanOrEqual(2);
    // Every replaced token was revoked, so at most the current one is alive.
    expect(fake.liveTokens()).toBe(1);
    expectRedacted(kit, fake.issuedTokens());
    expect(kit.logs.records()).toContainEqual(
      expect.objectContaining({ msg: 'vault token renewed' }),
    );
    await client!.close();
    expect(fake.liveTokens()).toBe(0);
  });

  it('logs in again when renewal fails', async () => {
    approle({ policies: POLICY, ttlSeconds: 1 });
    fake.faults.failRenewals = true;
    await readFor(1_200);
    expect(fake.counts.renewals).toBeGreaterThanOrEqual(1);
    expect(fake.counts.logins).toBeGreaterThanOrEqual(2);
  });

  it('logs in again instead of renewing a token that is not renewable', async () => {
    approle({ policies: POLICY, ttlSeconds: 1, renewable: false });
    await readFor(1_200);
    expect(fake.counts.renewals).toBe(0);
    expect(fake.counts.logins).toBeGreaterThanOrEqual(2);
  });

  it('replaces a token revoked behind its back once, and the read succeeds', async () => {
    approle({ policies: POLICY, ttlSeconds: 3600 });
    await read();
    fake.revokeAllTokens();
    expect(await read()).toBe('{"password":"p"}');
    expect(fake.counts.logins).toBe(2);
  });

  it('maps a refused login to SECRET_ACCESS_DENIED naming the auth mount', async () => {
    approle({ policies: POLICY, ttlSeconds: 60 }, {}, 'wrong-secret-id');
    await expect(read()).rejects.toMatchObject({
      code: 'SECRET_ACCESS_DENIED',
      message: containing('auth/approle'),
    });
  });

  it('tries a refused AppRole secret once for many reads and a probe, then backs off', async () => {
    const kit = approle({ policies: POLICY, ttlSeconds: 60 }, {}, 'wrong-secret-id');

    const fetchFailure = (name: string): Promise<unknown> => {
      const ref = parseSecretRef(`vault://secret/apps/${name}`, [vaultStore]);
      return client!
        .fetch(client!.canonicalize(ref), { signal: AbortSignal.timeout(5_000) })
        .catch((error: unknown) => error);
    };
    // Two reads sharing the login in flight, then one after the refusal.
    const failures = [...(await Promise.all([fetchFailure('a'), fetchFailure('b')]))];
    failures.push(await fetchFailure('c'));
    const probe = await client!.probe!({ signal: AbortSignal.timeout(5_000) }).catch(
      (error: unknown) => error,
    );

    expect([...failures, probe].map((error) => (error as { code?: string }).code)).toEqual([
      'SECRET_ACCESS_DENIED',
      'SECRET_ACCESS_DENIED',
      'SECRET_ACCESS_DENIED',
      'SECRET_ACCESS_DENIED',
    ]);
    expect(fake.counts.logins).toBe(1);
    expect(kit.logs.records()).toContainEqual(
      expect.objectContaining({ msg: 'vault login refused', retryInMs: 2_000 }),
    );
  });

  it('revokes a login still in flight when close began', async () => {
    approle({ policies: POLICY, ttlSeconds: 3600 });
    fake.faults.authDelayMs = 300;
    const pending = read().catch((error: unknown) => error);
    await waitFor(() => fake.counts.held === 1, { what: 'the login to reach Vault' });
    await client!.close();
    await pending;
    expect(fake.counts.logins).toBe(1);
    expect(fake.liveTokens()).toBe(0);
  });

  it('logs in inside the profile namespace', async () => {
    fake.mountKv('secret', 2, 'admin');
    fake.putKv2('secret', 'apps/db', { password: 'ns' }, 'admin');
    const { roleId, secretId } = fake.addAppRole(
      { policies: ['admin/secret/data/apps/*'], ttlSeconds: 60 },
      { namespace: 'admin', mount: 'ar' },
    );
    const kit = testStoreDeps({ references: { 'env://SID': secretId } });
    const profile = VaultProfileSchema.parse({
      address: fake.address,
      namespace: 'admin',
      auth: { type: 'approle', mount: 'ar', roleId, secretId: 'env://SID' },
    });
    client = vaultStore.create(profile, kit.deps);
    expect(await read()).toBe('{"password":"ns"}');
  });
});

describe('vault Kubernetes login', () => {
  it.each([undefined, 'k8s/prod'])(
    'posts to the auth mount %s, never /auth//login',
    async (mount) => {
      const jwt = `eyJ.sa-token.${Date.now()}`;
      const jwtFile = join(dir, 'token');
      await writeFile(jwtFile, `${jwt}\n`);
      fake.addKubernetesRole(
        'perimeter',
        jwt,
        { policies: POLICY, ttlSeconds: 60 },
        mount === undefined ? {} : { mount },
      );
      const kit = testStoreDeps();
      const profile = VaultProfileSchema.parse({
        address: fake.address,
        auth: {
          type: 'kubernetes',
          role: 'perimeter',
          jwtFile,
          ...(mount === undefined ? {} : { mount }),
        },
      });
      client = vaultStore.create(profile, kit.deps);
      expect(await read()).toBe('{"password":"p"}');
      expect(fake.counts.logins).toBe(1);
      expectRedacted(kit, [jwt]);
    },
  );

  it('reports an unreadable service-account token file naming jwtFile', async () => {
    const profile = VaultProfileSchema.parse({
      address: fake.address,
      auth: { type: 'kubernetes', role: 'perimeter', jwtFile: join(dir, 'absent') },
    });
    client = vaultStore.create(profile, testStoreDeps().deps);
    await expect(read()).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
      message: containing('jwtFile'),
    });
  });
});

describe('vault token auth', () => {
  it('uses the referenced token without a login, renews it and never revokes it', async () => {
    const token = fake.createToken({ policies: POLICY, ttlSeconds: 1 });
    const kit = testStoreDeps({ references: { 'file:///vault/token': token } });
    const profile = VaultProfileSchema.parse({
      address: fake.address,
      auth: { type: 'token', token: 'file:///vault/token' },
    });
    client = vaultStore.create(profile, kit.deps);
    await readFor(1_200);
    await client.probe?.({ signal: AbortSignal.timeout(2_000) });
    await client.close();
    expect(fake.counts).toMatchObject({ logins: 0, revocations: 0 });
    expect(fake.counts.renewals).toBeGreaterThanOrEqual(1);
    expectRedacted(kit, [token]);
  });

  it('reports a revoked token as SECRET_ACCESS_DENIED after re-reading the reference once', async () => {
    const token = fake.createToken({ policies: POLICY, ttlSeconds: 0 });
    const kit = testStoreDeps({ references: { 'file:///vault/token': token } });
    const profile = VaultProfileSchema.parse({
      address: fake.address,
      auth: { type: 'token', token: 'file:///vault/token' },
    });
    client = vaultStore.create(profile, kit.deps);
    await read();
    fake.revokeAllTokens();
    await expect(read()).rejects.toMatchObject({ code: 'SECRET_ACCESS_DENIED' });
    expect(kit.resolved).toEqual(['file:///vault/token', 'file:///vault/token']);
  });
});

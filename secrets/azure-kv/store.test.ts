import { afterEach, describe, expect, it } from 'vitest';
import { isPerimeterError } from '../../agent/plugin-api/index.ts';
import type { PerimeterError } from '../../agent/plugin-api/index.ts';
import { CLIENT_ID, TENANT_ID, startAzureFakes } from '../../test/fakes/azure-kv/fakes.ts';
import type { AzureFakes } from '../../test/fakes/azure-kv/fakes.ts';
import { FakeKeyVault } from '../../test/fakes/azure-kv/key-vault.ts';
import { findCanary, makeCanary } from '../../test/helpers/canary.ts';
import { openStore } from '../../test/helpers/store-client.ts';
import type { StoreUnderTest } from '../../test/helpers/store-client.ts';
import { testStoreDeps } from '../../test/helpers/store-deps.ts';
import type { TestStoreDeps } from '../../test/helpers/store-deps.ts';
import { testPki } from '../../test/helpers/tls.ts';
import { azureKeyVaultStore } from './index.ts';

interface Setup extends StoreUnderTest {
  readonly fakes: AzureFakes;
  readonly env: TestStoreDeps;
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((cleanup) => cleanup()));
});

/** A store client for `profile`, closed after the test. */
function open(profile: Record<string, unknown>, env = testStoreDeps()): StoreUnderTest {
  const store = openStore(azureKeyVaultStore, profile, env.deps);
  cleanups.push(() => store.client.close());
  return store;
}

async function setup(
  overrides: Record<string, unknown> = {},
  options: Parameters<typeof startAzureFakes>[0] = {},
): Promise<Setup> {
  const fakes = await startAzureFakes(options);
  cleanups.push(() => fakes.close());
  const env = testStoreDeps();
  return { ...open(fakes.profile(overrides), env), fakes, env };
}

describe('azure-kv store against the Key Vault and Entra fakes', () => {
  it('answers the 401 challenge once with a workload-identity token, then reads with it', async () => {
    const { fakes, env, read } = await setup();
    const value = makeCanary('kv-secret');
    const version = fakes.vault.put('db-password', value);

    const first = await read('azure-kv://contoso-prod/db-password');
    await read('azure-kv://contoso-prod/db-password');

    expect(first.value.toString()).toBe(value);
    expect(first.versionId).toBe(version);
    expect(fakes.vault.challenges).toBe(1);
    expect(fakes.vault.reads.map((r) => [r.clientId, r.outcome])).toEqual([
      [CLIENT_ID, 'ok'],
      [CLIENT_ID, 'ok'],
    ]);
    expect(fakes.entra.requests).toEqual([
      {
        tenantId: TENANT_ID,
        clientId: CLIENT_ID,
        grant: 'federated',
        scope: 'https://vault.azure.net/.default',
        outcome: 'ok',
      },
    ]);
    const [token] = fakes.tokens.values();
    expect(env.logs.redactor.redact(`Bearer ${token!}`)).toBe('Bearer [redacted]');
    expect(findCanary(value, { logs: env.logs.text() })).toEqual([]);
  });

  it('reads a pinned version after a rotation, by path segment or ?version=', async () => {
    const { fakes, read } = await setup();
    const old = fakes.vault.put('api-key', 'old');
    fakes.vault.put('api-key', 'new');

    expect((await read('azure-kv://contoso-prod/api-key')).value.toString()).toBe('new');
    expect((await read(`azure-kv://contoso-prod/api-key/${old}`)).value.toString()).toBe('old');
    expect((await read(`azure-kv://contoso-prod/API-KEY?version=${old}`)).versionId).toBe(old);
  });

  it('returns base64 content as stored: decoding is the reference’s decode=base64', async () => {
    const { fakes, read } = await setup();
    const bytes = Buffer.from([0, 1, 0xfe, 0xff]);
    fakes.vault.put('keystore', bytes.toString('base64'), 'application/x-pkcs12');

    expect((await read('azure-kv://contoso-prod/keystore')).value.toString()).toBe(
      bytes.toString('base64'),
    );
  });

  it('maps a missing secret and a missing version to SECRET_NOT_FOUND', async () => {
    const { fakes, failure } = await setup();
    fakes.vault.put('present', 'x');

    const missing = await failure('azure-kv://contoso-prod/absent');
    expect(missing.code).toBe('SECRET_NOT_FOUND');
    expect(missing.context).toMatchObject({
      store: 'azure-kv',
      locator: 'contoso-prod.vault.azure.net/absent',
      status: 404,
      sdkCode: 'SecretNotFound',
    });
    expect((await failure(`azure-kv://contoso-prod/present/${'a'.repeat(32)}`)).code).toBe(
      'SECRET_NOT_FOUND',
    );
  });

  it('tells a disabled secret from a missing permission, both SECRET_ACCESS_DENIED', async () => {
    const { fakes, failure } = await setup();
    fakes.vault.put('disabled', 'x');
    fakes.vault.disable('disabled');
    fakes.vault.put('locked', 'x');
    fakes.vault.deny('locked');

    const disabled = await failure('azure-kv://contoso-prod/disabled');
    const locked = await failure('azure-kv://contoso-prod/locked');

    expect(disabled.code).toBe('SECRET_ACCESS_DENIED');
    expect(disabled.context).toMatchObject({
      reason: 'disabled',
      status: 403,
      sdkCode: 'SecretDisabled',
    });
    expect(disabled.message).toContain('Enable it in the vault');
    expect(locked.context).toMatchObject({ reason: 'forbidden', sdkCode: 'ForbiddenByRbac' });
    expect(locked.message).toContain('Key Vault Secrets User');
  });

  it('reports 429 as retryable with the Retry-After the vault sent', async () => {
    const { fakes, failure } = await setup({}, { retryAfterSeconds: 7 });
    fakes.vault.put('db', 'x');
    fakes.vault.faults.failAll('throttle');

    const error = await failure('azure-kv://contoso-prod/db');

    expect(error.code).toBe('SECRET_UNAVAILABLE');
    expect(error.retryable).toBe(true);
    expect(error.retryAfterMs).toBe(7000);
    expect(error.context).toMatchObject({ status: 429, reason: 'throttled' });
  });

  it('lets the SDK retry a throttled read after Retry-After when maxRetries allows', async () => {
    const { fakes, read } = await setup({ maxRetries: 1 }, { retryAfterSeconds: 0 });
    fakes.vault.put('db', 'x');
    fakes.vault.faults.failNext(1, 'throttle');

    expect((await read('azure-kv://contoso-prod/db')).value.toString()).toBe('x');
    expect(fakes.vault.reads.map((r) => r.outcome)).toEqual(['Throttled', 'ok']);
  });

  it.each(['unavailable', 'internal', 'reset'] as const)(
    'maps %s to a retryable SECRET_UNAVAILABLE',
    async (fault) => {
      const { fakes, failure } = await setup();
      fakes.vault.put('db', 'x');
      fakes.vault.faults.failAll(fault);

      const error = await failure('azure-kv://contoso-prod/db');

      expect(error.code).toBe('SECRET_UNAVAILABLE');
      expect(error.retryable).toBe(true);
    },
  );

  it('sends no token when the challenge names a resource outside the vault host (verification on)', async () => {
    const { fakes, failure } = await setup({ disableChallengeResourceVerification: false });
    fakes.vault.put('db', 'x');

    const error = await failure('azure-kv://contoso-prod/db');

    expect(error.code).toBe('SECRET_ACCESS_DENIED');
    expect(error.context['reason']).toBe('challenge-refused');
    expect(fakes.entra.requests).toEqual([]);
    expect(fakes.vault.challenges).toBe(1);
  });

  it('refuses a challenge from another tenant unless additionallyAllowedTenants lists it', async () => {
    const otherTenant = 'f0e1d2c3-b4a5-4968-8776-655443322110';
    const fakes = await startAzureFakes();
    const pki = testPki();
    const foreign = await FakeKeyVault.start({
      tls: { certPem: pki.serverCertPem, keyPem: pki.serverKeyPem },
      tokens: fakes.tokens,
      tenantId: otherTenant,
    });
    cleanups.push(() => Promise.all([fakes.close(), foreign.close()]).then(() => undefined));
    foreign.put('db', 'from-other-tenant');
    fakes.entra.register(otherTenant, CLIENT_ID, {
      kind: 'federated',
      assertion: fakes.federatedToken,
    });
    const read = (overrides: Record<string, unknown>): Promise<unknown> =>
      open(fakes.profile({ endpoints: { 'contoso-prod': foreign.url }, ...overrides }))
        .read('azure-kv://contoso-prod/db')
        .then(
          (secret) => secret.value.toString(),
          (error: unknown) => error,
        );

    const refused = await read({});
    expect(isPerimeterError(refused, 'SECRET_ACCESS_DENIED')).toBe(true);
    expect((refused as PerimeterError).context['reason']).toBe('tenant-not-allowed');
    expect(await read({ additionallyAllowedTenants: [otherTenant] })).toBe('from-other-tenant');
  });

  it('logs each read at debug with locator, duration and outcome', async () => {
    const { fakes, env, read, failure } = await setup();
    fakes.vault.put('db', 'x');
    await read('azure-kv://contoso-prod/db');
    await failure('azure-kv://contoso-prod/none');

    expect(env.logs.records().filter((r) => r['msg'] === 'secret read')).toMatchObject([
      {
        level: 'debug',
        store: 'azure-kv',
        locator: 'contoso-prod.vault.azure.net/db',
        outcome: 'ok',
      },
      {
        level: 'debug',
        store: 'azure-kv',
        locator: 'contoso-prod.vault.azure.net/none',
        outcome: 'SECRET_NOT_FOUND',
      },
    ]);
  });

  it('probes readiness by obtaining a token for the vault resource, reading no secret', async () => {
    const { fakes, client } = await setup();

    await client.probe!({ signal: new AbortController().signal });

    expect(fakes.entra.requests.map((r) => [r.scope, r.outcome])).toEqual([
      ['https://vault.azure.net/.default', 'ok'],
    ]);
    expect(fakes.vault.reads).toEqual([]);
  });

  it('closes idempotently and refuses reads afterwards', async () => {
    const { fakes, client, failure } = await setup();
    await client.close();
    await client.close();

    const error = await failure('azure-kv://contoso-prod/db');
    expect(error.code).toBe('SECRET_UNAVAILABLE');
    expect(fakes.vault.challenges).toBe(0);
  });
});

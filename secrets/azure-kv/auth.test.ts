import { afterEach, describe, expect, it } from 'vitest';
import { isPerimeterError } from '../../agent/plugin-api/index.ts';
import type { PerimeterError } from '../../agent/plugin-api/index.ts';
import { testStoreDeps } from '../../test/helpers/store-deps.ts';
import type { TestStoreDeps } from '../../test/helpers/store-deps.ts';
import { rsaClientCertificate } from '../../test/fakes/azure-kv/certificates.ts';
import { CLIENT_ID, TENANT_ID, startAzureFakes } from '../../test/fakes/azure-kv/fakes.ts';
import type { AzureFakes } from '../../test/fakes/azure-kv/fakes.ts';
import { findCanary, makeCanary } from '../../test/helpers/canary.ts';
import { openStore } from '../../test/helpers/store-client.ts';
import { azureKeyVaultStore } from './index.ts';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((cleanup) => cleanup()));
});

async function fakes(): Promise<AzureFakes> {
  const started = await startAzureFakes();
  started.vault.put('db', 'vault-value');
  cleanups.push(() => started.close());
  return started;
}

function reader(
  started: AzureFakes,
  auth: Record<string, unknown>,
  references: Record<string, string> = {},
): { read(): Promise<unknown>; env: TestStoreDeps } {
  const env = testStoreDeps({ references });
  const store = openStore(azureKeyVaultStore, started.profile({ auth }), env.deps);
  cleanups.push(() => store.client.close());
  return { env, read: () => store.attempt('azure-kv://contoso-prod/db') };
}

describe('azure-kv authentication methods', () => {
  it('authenticates with a client secret resolved from a reference, never logging it', async () => {
    const started = await fakes();
    const secret = makeCanary('client-secret');
    started.entra.register(TENANT_ID, CLIENT_ID, { kind: 'secret', secret });
    const auth = {
      type: 'clientSecret',
      tenantId: TENANT_ID,
      clientId: CLIENT_ID,
      clientSecret: 'file:///var/run/secrets/azure/client-secret',
    };
    const { read, env } = reader(started, auth, {
      'file:///var/run/secrets/azure/client-secret': `${secret}\n`,
    });

    expect(await read()).toBe('vault-value');
    expect(started.entra.requests.map((r) => [r.grant, r.outcome])).toEqual([['secret', 'ok']]);
    expect(findCanary(secret, { logs: env.logs.text() })).toEqual([]);
  });

  it('re-reads a rejected client secret reference, so a rotation heals without a restart', async () => {
    const started = await fakes();
    started.entra.register(TENANT_ID, CLIENT_ID, {
      kind: 'secret',
      secret: 'rotated-secret-value',
    });
    const auth = {
      type: 'clientSecret',
      tenantId: TENANT_ID,
      clientId: CLIENT_ID,
      clientSecret: 'env://AZURE_SECRET',
    };
    const { read, env } = reader(started, auth, { 'env://AZURE_SECRET': 'previous-secret-value' });

    const refused = await read();
    expect(isPerimeterError(refused, 'SECRET_ACCESS_DENIED')).toBe(true);
    expect((refused as PerimeterError).context).toMatchObject({
      reason: 'authentication-failed',
      status: 401,
    });
    env.references.set('env://AZURE_SECRET', 'rotated-secret-value');

    expect(await read()).toBe('vault-value');
    expect(env.resolved).toEqual(['env://AZURE_SECRET', 'env://AZURE_SECRET']);
    expect(started.entra.requests.map((r) => r.outcome)).toEqual(['invalid_client', 'ok']);
  });

  it('authenticates with a client certificate: a PS256 assertion the fake verifies against the registered certificate', async () => {
    const started = await fakes();
    const certificate = rsaClientCertificate();
    started.entra.register(TENANT_ID, CLIENT_ID, {
      kind: 'certificate',
      certificatePem: certificate.certificatePem,
    });
    const auth = {
      type: 'clientCertificate',
      tenantId: TENANT_ID,
      clientId: CLIENT_ID,
      certificate: 'env://AZURE_CERT',
    };
    const { read, env } = reader(started, auth, { 'env://AZURE_CERT': certificate.combinedPem });

    expect(await read()).toBe('vault-value');
    expect(started.entra.requests.map((r) => [r.grant, r.outcome])).toEqual([
      ['certificate', 'ok'],
    ]);
    expect(env.logs.text()).not.toContain('PRIVATE KEY');
  });

  it('is refused when the assertion is signed by a certificate the app does not have', async () => {
    const started = await fakes();
    started.entra.register(TENANT_ID, CLIENT_ID, {
      kind: 'certificate',
      certificatePem: rsaClientCertificate('another-app').certificatePem,
    });
    const auth = {
      type: 'clientCertificate',
      tenantId: TENANT_ID,
      clientId: CLIENT_ID,
      certificate: 'env://AZURE_CERT',
    };
    const { read } = reader(started, auth, {
      'env://AZURE_CERT': rsaClientCertificate().combinedPem,
    });

    const error = await read();

    expect(isPerimeterError(error, 'SECRET_ACCESS_DENIED')).toBe(true);
    expect(started.entra.requests.map((r) => r.outcome)).toEqual(['invalid_client']);
    expect(started.vault.reads).toEqual([]);
  });

  it('is refused when the federated token is not the one Entra trusts', async () => {
    const started = await fakes();
    const { read } = reader(started, {
      type: 'workloadIdentity',
      tenantId: TENANT_ID,
      clientId: '99999999-2222-3333-4444-555555555555',
      tokenFilePath: started.tokenFilePath,
    });

    const error = await read();

    expect(isPerimeterError(error, 'SECRET_ACCESS_DENIED')).toBe(true);
    expect((error as PerimeterError).context['reason']).toBe('authentication-failed');
  });

  it('maps Entra answering 503 to a retryable SECRET_UNAVAILABLE', async () => {
    const started = await fakes();
    started.entra.failNext(5);
    const { read } = reader(started, {
      type: 'workloadIdentity',
      tenantId: TENANT_ID,
      clientId: CLIENT_ID,
      tokenFilePath: started.tokenFilePath,
    });

    const error = await read();

    expect(isPerimeterError(error, 'SECRET_UNAVAILABLE')).toBe(true);
    expect((error as PerimeterError).retryable).toBe(true);
    expect((error as PerimeterError).context['reason']).toBe('authority-unavailable');
  });

  it('names the key path when a credential reference does not resolve, and retries it on the next read', async () => {
    const started = await fakes();
    started.entra.register(TENANT_ID, CLIENT_ID, { kind: 'secret', secret: 'late-secret' });
    const auth = {
      type: 'clientSecret',
      tenantId: TENANT_ID,
      clientId: CLIENT_ID,
      clientSecret: 'env://LATE',
    };
    const { read, env } = reader(started, auth);

    const error = await read();
    expect(isPerimeterError(error, 'SECRET_NOT_FOUND')).toBe(true);
    expect((error as PerimeterError).message).toContain('auth.clientSecret (env://LATE)');
    env.references.set('env://LATE', 'late-secret');

    expect(await read()).toBe('vault-value');
  });

  it('takes workload identity settings from the environment the AKS webhook sets', async () => {
    const started = await fakes();
    const env = testStoreDeps({
      environment: {
        AZURE_TENANT_ID: TENANT_ID,
        AZURE_CLIENT_ID: CLIENT_ID,
        AZURE_FEDERATED_TOKEN_FILE: started.tokenFilePath,
      },
    });
    const profile = started.profile({ auth: { type: 'workloadIdentity' } });
    const store = openStore(azureKeyVaultStore, profile, env.deps);
    cleanups.push(() => store.client.close());

    expect(await store.attempt('azure-kv://contoso-prod/db')).toBe('vault-value');
    expect(started.entra.requests.map((r) => [r.grant, r.clientId])).toEqual([
      ['federated', CLIENT_ID],
    ]);
  });

  it('says which workload identity settings are missing and how to get them', async () => {
    const started = await fakes();
    const { read } = reader(started, { type: 'workloadIdentity', tenantId: TENANT_ID });

    const error = await read();

    expect(isPerimeterError(error, 'SECRET_ACCESS_DENIED')).toBe(true);
    expect((error as PerimeterError).context).toMatchObject({
      reason: 'credential-unavailable',
      keys: ['auth.clientId', 'auth.tokenFilePath'],
    });
    expect((error as Error).message).toContain('azure.workload.identity/use');
    expect(started.entra.requests).toEqual([]);
  });
});

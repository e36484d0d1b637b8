import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testStoreDeps } from '../../test/helpers/store-deps.ts';
import { startAzureFakes } from '../../test/fakes/azure-kv/fakes.ts';
import type { AzureFakes } from '../../test/fakes/azure-kv/fakes.ts';
import { FakeManagedIdentity } from '../../test/fakes/azure-kv/managed-identity.ts';
import { TENANT_ID } from '../../test/fakes/azure-kv/fakes.ts';
import { openStore } from '../../test/helpers/store-client.ts';
import { azureKeyVaultStore } from './index.ts';

// The managed-identity endpoint is found through IDENTITY_ENDPOINT and IDENTITY_HEADER, as on App
// Service and Container Apps. This file owns those variables in its worker process.
const USER_ASSIGNED = '5a6b7c8d-1e2f-4a3b-9c4d-5e6f7a8b9c0d';
const saved = { ...process.env };
let fakes: AzureFakes;
let identity: FakeManagedIdentity;

beforeAll(async () => {
  fakes = await startAzureFakes();
  identity = await FakeManagedIdentity.start(fakes.tokens, TENANT_ID);
  process.env['IDENTITY_ENDPOINT'] = identity.endpoint;
  process.env['IDENTITY_HEADER'] = identity.identityHeader;
  fakes.vault.put('db', 'read-with-managed-identity');
});

afterAll(async () => {
  delete process.env['IDENTITY_ENDPOINT'];
  delete process.env['IDENTITY_HEADER'];
  Object.assign(process.env, saved);
  await Promise.all([fakes.close(), identity.close()]);
});

describe('azure-kv managed identity', () => {
  it('reads with a user-assigned identity from the App Service identity endpoint', async () => {
    const env = testStoreDeps();
    const profile = fakes.profile({ auth: { type: 'managedIdentity', clientId: USER_ASSIGNED } });
    const store = openStore(azureKeyVaultStore, profile, env.deps);

    const secret = await store.read('azure-kv://contoso-prod/db');
    await store.read('azure-kv://contoso-prod/db');

    expect(secret.value.toString()).toBe('read-with-managed-identity');
    expect(identity.requests).toEqual([
      {
        resource: 'https://vault.azure.net',
        clientId: USER_ASSIGNED,
        resourceId: undefined,
        outcome: 'ok',
      },
    ]);
    expect(fakes.vault.reads.map((r) => r.clientId)).toEqual([USER_ASSIGNED, USER_ASSIGNED]);
    expect(fakes.entra.requests).toEqual([]);
    const token = fakes.tokens.values().at(-1)!;
    expect(env.logs.redactor.redact(token)).toBe('[redacted]');
    await store.client.close();
  });
});

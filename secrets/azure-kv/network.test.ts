import { afterEach, describe, expect, it } from 'vitest';
import { isPerimeterError } from '../../agent/plugin-api/index.ts';
import type { SecretStoreNetwork } from '../../agent/plugin-api/index.ts';
import { startConnectProxy } from '../../test/helpers/connect-proxy.ts';
import { testStoreDeps } from '../../test/helpers/store-deps.ts';
import { startAzureFakes } from '../../test/fakes/azure-kv/fakes.ts';
import type { AzureFakes } from '../../test/fakes/azure-kv/fakes.ts';
import { testPki } from '../../test/helpers/tls.ts';
import { openStore } from '../../test/helpers/store-client.ts';
import { azureKeyVaultStore } from './index.ts';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((cleanup) => cleanup()));
});

async function fakes(): Promise<AzureFakes> {
  const started = await startAzureFakes();
  started.vault.put('db', 'over-tls');
  cleanups.push(() => started.close());
  return started;
}

function read(
  profile: Record<string, unknown>,
  network: Partial<SecretStoreNetwork> = {},
): Promise<unknown> {
  const store = openStore(azureKeyVaultStore, profile, testStoreDeps({ network }).deps);
  cleanups.push(() => store.client.close());
  return store.attempt('azure-kv://contoso-prod/db');
}

describe('azure-kv network settings', () => {
  it('trusts the Entra and vault endpoints through the agent-wide extra CA as well as caFile', async () => {
    const started = await fakes();

    expect(
      await read(started.profile({ caFile: undefined }), { extraCaPem: testPki().caPem }),
    ).toBe('over-tls');
  });

  it('refuses endpoints whose CA is not trusted, with TLS_UNTRUSTED and no token sent', async () => {
    const started = await fakes();

    const error = await read(started.profile({ caFile: undefined }));

    expect(isPerimeterError(error, 'TLS_UNTRUSTED')).toBe(true);
    expect(started.entra.requests).toEqual([]);
  });

  it('reports an unreadable caFile as CONFIG_INVALID naming the key', async () => {
    const started = await fakes();

    const error = await read(started.profile({ caFile: '/nonexistent/ca.pem' }));

    expect(isPerimeterError(error, 'CONFIG_INVALID')).toBe(true);
    expect((error as Error).message).toContain('secretStores.test.caFile');
  });

  it('tunnels the token and vault calls through the https proxy, keeping the custom CA', async () => {
    const started = await fakes();
    const proxy = await startConnectProxy();
    cleanups.push(() => proxy.close());

    expect(await read(started.profile(), { httpsProxy: proxy.url })).toBe('over-tls');

    const hosts = new Set(proxy.tunnels);
    expect(hosts).toEqual(new Set([started.entra.url.slice(8), started.vault.url.slice(8)]));
  });
});

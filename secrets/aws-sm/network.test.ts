import { afterEach, describe, expect, it } from 'vitest';
import { isPerimeterError } from '../../agent/plugin-api/index.ts';
import type { SecretStoreNetwork } from '../../agent/plugin-api/index.ts';
import { startConnectProxy } from '../../test/helpers/connect-proxy.ts';
import type { ConnectProxy } from '../../test/helpers/connect-proxy.ts';
import { FakeSecretsManager } from '../../test/fakes/aws-sm/secrets-manager.ts';
import { testStoreDeps } from '../../test/helpers/store-deps.ts';
import { testPki } from '../../test/helpers/tls.ts';
import { openStore } from '../../test/helpers/store-client.ts';
import { awsSecretsManagerStore } from './index.ts';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((cleanup) => cleanup()));
});

async function httpsFake(): Promise<FakeSecretsManager> {
  const pki = testPki();
  const fake = await FakeSecretsManager.start({
    tls: { certPem: pki.serverCertPem, keyPem: pki.serverKeyPem },
  });
  fake.addKey('AKIANETWORKTEST0001', { secretAccessKey: 'network-secret-key' });
  fake.put('prod/db', 'over-tls');
  cleanups.push(() => fake.close());
  return fake;
}

async function proxy(): Promise<ConnectProxy> {
  const started = await startConnectProxy();
  cleanups.push(() => started.close());
  return started;
}

async function read(
  fake: FakeSecretsManager,
  network: Partial<SecretStoreNetwork>,
): Promise<Buffer> {
  const env = testStoreDeps({
    references: { 'env://ID': 'AKIANETWORKTEST0001', 'env://KEY': 'network-secret-key' },
    network,
  });
  const settings = {
    region: 'us-east-1',
    endpoint: fake.url,
    maxAttempts: 1,
    auth: { type: 'static', accessKeyId: 'env://ID', secretAccessKey: 'env://KEY' },
  };
  const store = openStore(awsSecretsManagerStore, settings, env.deps);
  cleanups.push(() => store.client.close());
  return (await store.read('aws-sm://prod/db')).value;
}

describe('aws-sm network settings', () => {
  it('trusts an endpoint behind a private CA given as the extra CA of the agent', async () => {
    const fake = await httpsFake();

    expect((await read(fake, { extraCaPem: testPki().caPem })).toString()).toBe('over-tls');
  });

  it('refuses an endpoint whose CA is not trusted, with TLS_UNTRUSTED', async () => {
    const fake = await httpsFake();

    const error: unknown = await read(fake, {}).catch((e: unknown) => e);

    expect(isPerimeterError(error, 'TLS_UNTRUSTED')).toBe(true);
    expect(fake.reads).toHaveLength(0);
  });

  it('tunnels through the https proxy, and not for hosts in the no-proxy list', async () => {
    const fake = await httpsFake();
    const egress = await proxy();
    const extraCaPem = testPki().caPem;

    expect((await read(fake, { extraCaPem, httpsProxy: egress.url })).toString()).toBe('over-tls');
    expect(egress.tunnels).toEqual([fake.url.replace('https://', '')]);

    await read(fake, { extraCaPem, httpsProxy: egress.url, noProxy: 'localhost,127.0.0.1' });
    expect(egress.tunnels).toHaveLength(1);
  });
});

import { afterEach, describe, expect, it } from 'vitest';
import { isPerimeterError } from '../../agent/plugin-api/index.ts';
import type { SecretStoreNetwork } from '../../agent/plugin-api/index.ts';
import { parseSecretRef } from '../../agent/secrets/ref.ts';
import { startConnectProxy } from '../../test/fakes/aws-sm/connect-proxy.ts';
import type { ConnectProxy } from '../../test/fakes/aws-sm/connect-proxy.ts';
import { FakeSecretsManager } from '../../test/fakes/aws-sm/secrets-manager.ts';
import { testStoreDeps } from '../../test/fakes/aws-sm/store-deps.ts';
import { testPki } from '../../test/helpers/tls.ts';
import { awsSecretsManagerStore } from './index.ts';
import { AwsSmProfileSchema } from './profile.ts';

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
  const store = awsSecretsManagerStore.create(
    AwsSmProfileSchema.parse({
      region: 'us-east-1',
      endpoint: fake.url,
      maxAttempts: 1,
      auth: { type: 'static', accessKeyId: 'env://ID', secretAccessKey: 'env://KEY' },
    }),
    env.deps,
  );
  cleanups.push(() => store.close());
  const ref = store.canonicalize(parseSecretRef('aws-sm://prod/db', [awsSecretsManagerStore]));
  return (await store.fetch(ref, { signal: new AbortController().signal })).value;
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

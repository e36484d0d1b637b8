import { afterEach, describe, expect, it } from 'vitest';
import { createMetrics } from '../../agent/metrics/metrics.ts';
import { createSecretResolver } from '../../agent/secrets/resolver.ts';
import { SecretsSettingsSchema } from '../../agent/secrets/settings.ts';
import { FakeSecretsManager } from '../../test/fakes/aws-sm/secrets-manager.ts';
import { captureLogs } from '../../test/helpers/capture-logs.ts';
import { findCanary, makeCanary } from '../../test/helpers/canary.ts';
import { secretStores } from '../index.ts';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((cleanup) => cleanup()));
});

describe('aws-sm behind the real resolver', () => {
  it('resolves its static keys through the env store, then reads and selects a key', async () => {
    const fake = await FakeSecretsManager.start();
    const secretKey = makeCanary('aws-secret-key');
    const password = makeCanary('db-password');
    fake.addKey('AKIARESOLVERTEST001', { secretAccessKey: secretKey });
    fake.put('prod/db', JSON.stringify({ user: 'svc', password }));
    const logs = captureLogs();
    const profile = {
      type: 'aws-sm',
      allow: ['prod/*'],
      region: 'us-east-1',
      endpoint: fake.url,
      auth: {
        type: 'static',
        accessKeyId: 'env://AWS_KEY_ID',
        secretAccessKey: 'env://AWS_SECRET_KEY',
      },
    };
    const resolver = createSecretResolver({
      stores: secretStores,
      profiles: { 'aws-sm': profile },
      settings: SecretsSettingsSchema.parse({}),
      network: { extraCaPem: undefined, httpsProxy: undefined, noProxy: undefined },
      redactor: logs.redactor,
      logger: logs.logger,
      metrics: createMetrics(),
      environment: { AWS_KEY_ID: 'AKIARESOLVERTEST001', AWS_SECRET_KEY: secretKey },
    });
    cleanups.push(async () => {
      await resolver.close();
      await fake.close();
    });
    const signal = new AbortController().signal;

    const value = await resolver.resolve('aws-sm://prod/db#password', { signal });

    expect(value.reveal()).toBe(password);
    expect(fake.reads.map((r) => [r.accessKeyId, r.outcome])).toEqual([
      ['AKIARESOLVERTEST001', 'ok'],
    ]);
    logs.logger.info({ leaked: `${secretKey} ${password}` }, 'a careless line');
    expect(findCanary(secretKey, { logs: logs.text() })).toEqual([]);
    expect(findCanary(password, { logs: logs.text() })).toEqual([]);
  });
});

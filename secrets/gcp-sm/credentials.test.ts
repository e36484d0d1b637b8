import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { SecretStoreClient } from '../../agent/plugin-api/index.ts';
import { startGcpSmFake } from '../../test/fakes/gcp-sm/fake.ts';
import type { GcpSmFake } from '../../test/fakes/gcp-sm/fake.ts';
import { parseSecretRef } from '../../agent/secrets/ref.ts';
import { testStoreDeps } from '../../test/helpers/store-deps.ts';
import type { TestStoreDeps } from '../../test/helpers/store-deps.ts';
import { containing } from '../../test/helpers/matchers.ts';
import { findCanary, makeCanary } from '../../test/helpers/canary.ts';
import { testPki } from '../../test/helpers/tls.ts';
import { gcpSmStore } from './index.ts';
import { GcpSmProfileSchema } from './profile.ts';
import { tempDir } from '../../test/helpers/temp-dir.ts';

const pki = testPki();
const PROJECT = 'acme-prod';
const SECRET = `projects/${PROJECT}/secrets/api-key`;
let fake: GcpSmFake;
let dir: string;
let subjectTokenFile: string;
let tokenHost: string;

beforeAll(async () => {
  fake = await startGcpSmFake({
    grpcTls: { certPem: pki.serverCertPem, keyPem: pki.serverKeyPem },
  });
  fake.state.addVersion(SECRET, 'the-api-key');
  tokenHost = new URL(fake.restUrl).host;
  dir = tempDir('gcp');
  subjectTokenFile = join(dir, 'token');
  const subjectToken = `eyJ.workload-${makeCanary('subject')}`;
  await writeFile(subjectTokenFile, subjectToken);
  fake.identity.trustSubjectToken(subjectToken);
});
afterAll(async () => {
  await fake.close();
});
beforeEach(() => {
  fake.authCalls.sts = 0;
  fake.authCalls.impersonations = 0;
});

function client(
  auth: Record<string, unknown>,
  kit: TestStoreDeps,
  extra: Record<string, unknown> = {},
): SecretStoreClient {
  const profile = GcpSmProfileSchema.parse({
    allowedProjects: [PROJECT],
    apiEndpoint: fake.restUrl,
    auth,
    ...extra,
  });
  return gcpSmStore.create(profile, kit.deps);
}

async function readApiKey(store: SecretStoreClient): Promise<string> {
  const ref = store.canonicalize(parseSecretRef(`gcp-sm://${PROJECT}/api-key`, [gcpSmStore]));
  return (await store.fetch(ref, { signal: AbortSignal.timeout(10_000) })).value.toString();
}

async function configFile(config: Record<string, unknown>): Promise<string> {
  const path = join(dir, `config-${Math.random().toString(36).slice(2)}.json`);
  await writeFile(path, JSON.stringify(config));
  return path;
}

describe('gcp-sm service-account keys', () => {
  it('signs its own JWT bearer with the key, which the fake verifies, without any token call', async () => {
    const sa = fake.identity.createServiceAccount(`sa@${PROJECT}.iam.gserviceaccount.com`);
    const kit = testStoreDeps({ references: { 'env://GCP_KEY': sa.json } });
    const store = client({ type: 'serviceAccountKey', key: 'env://GCP_KEY' }, kit);
    expect(await readApiKey(store)).toBe('the-api-key');
    expect(fake.state.lastPrincipal).toBe(`self-signed-jwt:${sa.email}`);
    expect(fake.authCalls.sts).toBe(0);
    expect(kit.resolved).toEqual(['env://GCP_KEY']);
    await store.close();
  });

  it('reports a value that is not a key as CONFIG_INVALID without quoting it', async () => {
    const canary = makeCanary('notakey');
    const kit = testStoreDeps({
      references: { 'env://GCP_KEY': `{"type":"authorized_user","secret":"${canary}"}` },
    });
    const store = client({ type: 'serviceAccountKey', key: 'env://GCP_KEY' }, kit);
    const error: unknown = await readApiKey(store).catch((caught: unknown) => caught);
    expect(error).toMatchObject({
      code: 'CONFIG_INVALID',
      message: containing('auth.key'),
    });
    expect(
      findCanary(canary, { message: (error as Error).message, logs: kit.logs.text() }),
    ).toEqual([]);
    await store.close();
  });

  it('refuses a literal key in the profile: credentials are references', () => {
    const result = GcpSmProfileSchema.safeParse({
      allowedProjects: [PROJECT],
      auth: { type: 'serviceAccountKey', key: '{"type":"service_account"}' },
    });
    expect(result.success).toBe(false);
  });
});

describe('gcp-sm workload identity federation', () => {
  it('exchanges the workload token at STS once and reuses the access token', async () => {
    const path = await configFile(fake.externalAccountConfig({ subjectTokenFile }));
    const kit = testStoreDeps();
    const store = client({ type: 'externalAccount', configFile: path }, kit, {
      tokenHosts: [tokenHost],
    });
    for (let index = 0; index < 5; index += 1) {
      expect(await readApiKey(store)).toBe('the-api-key');
    }
    expect(fake.authCalls.sts).toBe(1);
    expect(fake.state.lastPrincipal).toMatch(/^federated:/);
    // The federated access token that went on the wire is registered with the redactor.
    expect(fake.state.lastBearer).toMatch(/^ya29\.fake-/);
    expect(kit.logs.redactor.redact(fake.state.lastBearer ?? '')).toBe('[redacted]');
    await store.close();
  });

  it('impersonates the configured service account after the exchange', async () => {
    const email = `reader@${PROJECT}.iam.gserviceaccount.com`;
    const kit = testStoreDeps({
      references: {
        'file:///cfg.json': JSON.stringify(
          fake.externalAccountConfig({ subjectTokenFile, impersonate: email }),
        ),
      },
    });
    const store = client({ type: 'externalAccount', config: 'file:///cfg.json' }, kit, {
      tokenHosts: [tokenHost],
    });
    expect(await readApiKey(store)).toBe('the-api-key');
    expect(fake.state.lastPrincipal).toBe(`impersonated:${email}`);
    expect(fake.authCalls).toEqual({ sts: 1, impersonations: 1 });
    await store.close();
  });

  it.each(['rest', 'grpc'] as const)(
    'maps a refused token exchange over %s to SECRET_ACCESS_DENIED',
    async (transport) => {
      const untrusted = join(dir, 'untrusted-token');
      await writeFile(untrusted, 'not-a-trusted-subject-token');
      const path = await configFile(fake.externalAccountConfig({ subjectTokenFile: untrusted }));
      const store = client(
        { type: 'externalAccount', configFile: path },
        testStoreDeps({ network: { extraCaPem: pki.caPem } }),
        {
          tokenHosts: [tokenHost],
          transport,
          apiEndpoint: transport === 'rest' ? fake.restUrl : fake.grpcEndpoint,
        },
      );
      await expect(readApiKey(store)).rejects.toMatchObject({ code: 'SECRET_ACCESS_DENIED' });
      // Refused, not retried: one exchange.
      expect(fake.authCalls.sts).toBe(1);
      await store.close();
    },
  );

  it('refuses a configuration that would send tokens to an unlisted host, before any call', async () => {
    const path = await configFile(fake.externalAccountConfig({ subjectTokenFile }));
    const store = client({ type: 'externalAccount', configFile: path }, testStoreDeps());
    await expect(readApiKey(store)).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
      message: containing('tokenHosts'),
    });
    expect(fake.authCalls.sts).toBe(0);
    await store.close();
  });

  it('refuses an executable credential source', async () => {
    const config = {
      ...fake.externalAccountConfig({ subjectTokenFile }),
      credential_source: { executable: { command: '/bin/true' } },
    };
    const store = client(
      { type: 'externalAccount', configFile: await configFile(config) },
      testStoreDeps(),
      {
        tokenHosts: [tokenHost],
      },
    );
    await expect(readApiKey(store)).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
    await store.close();
  });

  it('reports an unreadable configuration file naming the setting', async () => {
    const store = client(
      { type: 'externalAccount', configFile: join(dir, 'absent.json') },
      testStoreDeps(),
    );
    await expect(readApiKey(store)).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
      message: containing('auth.configFile'),
    });
    await store.close();
  });

  it('asks for exactly one of configFile and config', () => {
    const both = GcpSmProfileSchema.safeParse({
      allowedProjects: [PROJECT],
      auth: { type: 'externalAccount', configFile: '/a.json', config: 'file:///b.json' },
    });
    expect(both.success).toBe(false);
  });
});

describe('gcp-sm application default credentials', () => {
  it('uses GOOGLE_APPLICATION_CREDENTIALS when the profile says adc', async () => {
    const sa = fake.identity.createServiceAccount(`adc@${PROJECT}.iam.gserviceaccount.com`);
    const keyFile = join(dir, 'adc.json');
    await writeFile(keyFile, sa.json);
    const previous = process.env['GOOGLE_APPLICATION_CREDENTIALS'];
    process.env['GOOGLE_APPLICATION_CREDENTIALS'] = keyFile;
    try {
      const store = client({ type: 'adc' }, testStoreDeps());
      expect(await readApiKey(store)).toBe('the-api-key');
      expect(fake.state.lastPrincipal).toBe(`self-signed-jwt:${sa.email}`);
      await store.close();
    } finally {
      if (previous === undefined) {
        delete process.env['GOOGLE_APPLICATION_CREDENTIALS'];
      } else {
        process.env['GOOGLE_APPLICATION_CREDENTIALS'] = previous;
      }
    }
  });
});

import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { PerimeterError } from '../../agent/plugin-api/index.ts';
import { FakeSecretsManager } from '../../test/fakes/aws-sm/secrets-manager.ts';
import type { FakeAwsKey } from '../../test/fakes/aws-sm/sigv4.ts';
import { FakeSts } from '../../test/fakes/aws-sm/sts.ts';
import { openStore } from '../../test/helpers/store-client.ts';
import { testStoreDeps } from '../../test/helpers/store-deps.ts';
import { awsSecretsManagerStore } from './index.ts';
import { tempDir } from '../../test/helpers/temp-dir.ts';

// The SDK's default chain reads the process environment, as it does in a pod. This file owns the
// AWS_* variables of its worker process and restores them at the end.
const ROLE_ARN = 'arn:aws:iam::123456789012:role/perimeter-reader';
const SERVICE_ACCOUNT_TOKEN = 'eyJhbGciOiJSUzI1NiJ9.projected-service-account-token.sig';
const saved = { ...process.env };
const issued: (FakeAwsKey & { accessKeyId: string })[] = [];
let fake: FakeSecretsManager;
let sts: FakeSts;
let tokenFile: string;

beforeAll(async () => {
  fake = await FakeSecretsManager.start();
  sts = await FakeSts.start((accessKeyId, key) => {
    issued.push({ accessKeyId, ...key });
    fake.addKey(accessKeyId, key);
  });
  sts.trust(ROLE_ARN, SERVICE_ACCOUNT_TOKEN);
  fake.put('prod/db', 'irsa-value');
  tokenFile = join(tempDir('irsa'), 'token');
});

beforeEach(() => {
  for (const name of Object.keys(process.env)) {
    if (name.startsWith('AWS_')) {
      Reflect.deleteProperty(process.env, name);
    }
  }
  process.env['AWS_EC2_METADATA_DISABLED'] = 'true';
  process.env['AWS_CONFIG_FILE'] = join(tmpdir(), 'perimeter-no-aws-config');
  process.env['AWS_SHARED_CREDENTIALS_FILE'] = join(tmpdir(), 'perimeter-no-aws-credentials');
  issued.length = 0;
  sts.calls = 0;
});

afterEach(() => {
  for (const name of Object.keys(process.env)) {
    if (name.startsWith('AWS_')) {
      Reflect.deleteProperty(process.env, name);
    }
  }
});

afterAll(async () => {
  Object.assign(process.env, saved);
  await Promise.all([fake.close(), sts.close()]);
});

function useIrsa(token = SERVICE_ACCOUNT_TOKEN): void {
  writeFileSync(tokenFile, token);
  process.env['AWS_WEB_IDENTITY_TOKEN_FILE'] = tokenFile;
  process.env['AWS_ROLE_ARN'] = ROLE_ARN;
  process.env['AWS_ROLE_SESSION_NAME'] = 'perimeter';
  process.env['AWS_ENDPOINT_URL_STS'] = sts.url;
}

function defaultStore(): {
  read(): Promise<Buffer>;
  failure(): Promise<PerimeterError>;
  close(): Promise<void>;
  env: ReturnType<typeof testStoreDeps>;
  probe(): Promise<void>;
} {
  const env = testStoreDeps();
  const settings = { region: 'us-east-1', endpoint: fake.url, maxAttempts: 1 };
  const store = openStore(awsSecretsManagerStore, settings, env.deps);
  return {
    env,
    read: async () => (await store.read('aws-sm://prod/db')).value,
    failure: () => store.failure('aws-sm://prod/db'),
    probe: () => store.client.probe!({ signal: AbortSignal.timeout(10_000) }),
    close: () => store.client.close(),
  };
}

describe('aws-sm default credential chain', () => {
  it('reads with IRSA: one web-identity exchange, then requests signed with the temporary key', async () => {
    useIrsa();
    const store = defaultStore();

    expect((await store.read()).toString()).toBe('irsa-value');
    expect((await store.read()).toString()).toBe('irsa-value');

    expect(sts.calls).toBe(1);
    const key = issued[0]!;
    expect(fake.reads.slice(-2).map((r) => [r.accessKeyId, r.sessionToken])).toEqual([
      [key.accessKeyId, true],
      [key.accessKeyId, true],
    ]);
    expect(store.env.logs.redactor.redact(`token ${key.sessionToken!}`)).toBe('token [redacted]');
    await store.close();
  });

  it('probes readiness by exchanging the service-account token', async () => {
    useIrsa();
    const store = defaultStore();

    await store.probe();

    expect(sts.calls).toBe(1);
    await store.close();
  });

  it('maps a token the role does not trust to SECRET_ACCESS_DENIED', async () => {
    useIrsa('some-other-token');
    const store = defaultStore();

    const error = await store.failure();

    expect(error.code).toBe('SECRET_ACCESS_DENIED');
    expect(error.context['sdkCode']).toBe('InvalidIdentityTokenException');
    await store.close();
  });

  it('uses AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY from the environment', async () => {
    fake.addKey('AKIAENVIRONMENT0001', { secretAccessKey: 'environment-secret' });
    process.env['AWS_ACCESS_KEY_ID'] = 'AKIAENVIRONMENT0001';
    process.env['AWS_SECRET_ACCESS_KEY'] = 'environment-secret';
    const store = defaultStore();

    expect((await store.read()).toString()).toBe('irsa-value');
    expect(fake.reads.at(-1)?.accessKeyId).toBe('AKIAENVIRONMENT0001');
    expect(sts.calls).toBe(0);
    await store.close();
  });

  it('says how to configure credentials when the chain finds none', async () => {
    const store = defaultStore();

    const error = await store.failure();

    expect(error.code).toBe('SECRET_ACCESS_DENIED');
    expect(error.message).toContain('IRSA or EKS Pod Identity');
    expect(error.context['sdkCode']).toBe('CredentialsProviderError');
    await store.close();
  });

  it('asks for a region when neither reference, profile nor environment gives one', async () => {
    process.env['AWS_ACCESS_KEY_ID'] = 'AKIAENVIRONMENT0001';
    process.env['AWS_SECRET_ACCESS_KEY'] = 'environment-secret';
    const store = openStore(awsSecretsManagerStore, { endpoint: fake.url }, testStoreDeps().deps);

    const error = await store.failure('aws-sm://prod/db');

    expect(error.code).toBe('SECRET_INVALID_REF');
    expect(error.message).toContain('Set the profile region, add ?region= or use an ARN');
    await store.client.close();
  });
});

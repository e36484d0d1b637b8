import { afterEach, describe, expect, it } from 'vitest';
import { isPerimeterError } from '../../agent/plugin-api/index.ts';
import type { PerimeterError } from '../../agent/plugin-api/index.ts';
import { FakeSecretsManager } from '../../test/fakes/aws-sm/secrets-manager.ts';
import { findCanary, makeCanary } from '../../test/helpers/canary.ts';
import { freePort } from '../../test/helpers/ports.ts';
import { openStore } from '../../test/helpers/store-client.ts';
import type { StoreUnderTest } from '../../test/helpers/store-client.ts';
import { testStoreDeps } from '../../test/helpers/store-deps.ts';
import type { TestStoreDeps } from '../../test/helpers/store-deps.ts';
import { awsSecretsManagerStore } from './index.ts';

const ACCESS_KEY_ID = 'AKIAPERIMETERTEST01';
const STATIC_AUTH = {
  type: 'static',
  accessKeyId: 'env://AWS_KEY_ID',
  secretAccessKey: 'env://AWS_SECRET_KEY',
};

interface Setup extends StoreUnderTest {
  readonly fake: FakeSecretsManager;
  readonly env: TestStoreDeps;
  readonly secretKey: string;
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((cleanup) => cleanup()));
});

/** A store client for `profile` over `deps`, closed after the test. */
function open(profile: Record<string, unknown>, env: TestStoreDeps): StoreUnderTest {
  const store = openStore(awsSecretsManagerStore, profile, env.deps);
  cleanups.push(() => store.client.close());
  return store;
}

async function setup(profile: Record<string, unknown> = {}): Promise<Setup> {
  const fake = await FakeSecretsManager.start();
  cleanups.push(() => fake.close());
  const secretKey = makeCanary('aws-secret-key');
  fake.addKey(ACCESS_KEY_ID, { secretAccessKey: secretKey });
  const env = testStoreDeps({
    references: { 'env://AWS_KEY_ID': ACCESS_KEY_ID, 'env://AWS_SECRET_KEY': `${secretKey}\n` },
  });
  const settings = { region: 'us-east-1', endpoint: fake.url, maxAttempts: 2, auth: STATIC_AUTH };
  return { ...open({ ...settings, ...profile }, env), fake, env, secretKey };
}

describe('aws-sm store against the Secrets Manager fake', () => {
  it('reads a string secret with static keys resolved from references, SigV4-signed', async () => {
    const { fake, env, read, secretKey } = await setup();
    const value = makeCanary('db-password');
    const { versionId } = fake.put('prod/db', JSON.stringify({ password: value }));

    const secret = await read('aws-sm://prod/db');

    expect(JSON.parse(secret.value.toString('utf8'))).toEqual({ password: value });
    expect(secret.versionId).toBe(versionId);
    expect(fake.reads).toEqual([
      {
        secretId: 'prod/db',
        region: 'us-east-1',
        accessKeyId: ACCESS_KEY_ID,
        sessionToken: false,
        outcome: 'ok',
      },
    ]);
    expect(env.resolved).toEqual(['env://AWS_KEY_ID', 'env://AWS_SECRET_KEY']);
    expect(findCanary(value, { logs: env.logs.text() })).toEqual([]);
    expect(findCanary(secretKey, { logs: env.logs.text() })).toEqual([]);
  });

  it('returns a binary secret byte for byte, decoded once', async () => {
    const { fake, read } = await setup();
    const bytes = Buffer.from([0, 1, 2, 0xfe, 0xff, 0x80, 0x3d, 0x3d]);
    fake.put('prod/keystore', bytes);

    const secret = await read('aws-sm://prod/keystore');

    expect(secret.value.equals(bytes)).toBe(true);
  });

  it('reads staging labels and pinned version ids after a rotation', async () => {
    const { fake, read } = await setup();
    const first = fake.put('prod/api', 'old');
    const second = fake.put('prod/api', 'new');

    expect((await read('aws-sm://prod/api')).value.toString()).toBe('new');
    expect((await read('aws-sm://prod/api?version=AWSPREVIOUS')).versionId).toBe(first.versionId);
    const pinned = await read(`aws-sm://prod/api?version=uuid/${first.versionId}`);
    expect(pinned.value.toString()).toBe('old');
    fake.setStage('prod/api', 'blue', second.versionId);
    expect((await read('aws-sm://prod/api?version=blue')).value.toString()).toBe('new');
  });

  it('signs for the region of an ARN or of ?region=, not the profile region', async () => {
    const { fake, read } = await setup();
    const { arn } = fake.put('shared/token', 'eu-value', 'eu-west-1');

    expect((await read(`aws-sm://${arn}`)).value.toString()).toBe('eu-value');
    expect((await read('aws-sm://shared/token?region=eu-west-1')).value.toString()).toBe(
      'eu-value',
    );
    expect(fake.reads.map((r) => r.region)).toEqual(['eu-west-1', 'eu-west-1']);
  });

  it('maps a missing secret, a missing version and a scheduled deletion to SECRET_NOT_FOUND', async () => {
    const { fake, failure } = await setup();
    fake.put('prod/gone', 'x');
    fake.put('prod/doomed', 'x');
    fake.scheduleDeletion('prod/doomed');

    expect(await failure('aws-sm://prod/none')).toMatchObject({
      code: 'SECRET_NOT_FOUND',
      context: {
        store: 'aws-sm',
        locator: 'prod/none',
        status: 400,
        sdkCode: 'ResourceNotFoundException',
      },
    });
    expect((await failure('aws-sm://prod/gone?version=AWSPENDING')).code).toBe('SECRET_NOT_FOUND');
    expect((await failure('aws-sm://prod/doomed')).context['sdkCode']).toBe(
      'InvalidRequestException',
    );
  });

  it('maps AccessDeniedException (not modelled by the SDK) to SECRET_ACCESS_DENIED without the AWS message', async () => {
    const { fake, failure } = await setup();
    fake.put('prod/locked', 'x');
    fake.deny('prod/locked');

    const error = await failure('aws-sm://prod/locked');

    expect(error.code).toBe('SECRET_ACCESS_DENIED');
    expect(error.retryable).toBe(false);
    expect(error.context['sdkCode']).toBe('AccessDeniedException');
    expect(error.message).not.toContain('assumed-role');
  });

  it('is refused by the fake when the secret key is wrong, as AWS refuses a bad signature', async () => {
    const { fake, env } = await setup();
    fake.put('prod/db', 'x');
    env.references.set('env://AWS_SECRET_KEY', 'wrong-secret-key');
    const store = open({ region: 'us-east-1', endpoint: fake.url, auth: STATIC_AUTH }, env);

    const error = await store.failure('aws-sm://prod/db');

    expect(error.code).toBe('SECRET_ACCESS_DENIED');
    expect(error.context['sdkCode']).toBe('InvalidSignatureException');
    expect(fake.reads.at(-1)?.outcome).toBe('InvalidSignatureException');
  });

  it('retries throttling inside the SDK and succeeds when it clears', async () => {
    const { fake, read } = await setup();
    fake.put('prod/db', 'v');
    fake.faults.failNext(1, 'throttle');

    expect((await read('aws-sm://prod/db')).value.toString()).toBe('v');
    expect(fake.reads.map((r) => r.outcome)).toEqual(['ThrottlingException', 'ok']);
  });

  it.each([
    ['throttle', 'ThrottlingException'],
    ['internal', 'InternalServiceError'],
    ['unavailable', 'ServiceUnavailable'],
  ] as const)(
    'gives up on %s after maxAttempts with a retryable SECRET_UNAVAILABLE',
    async (fault, sdkCode) => {
      const { fake, failure } = await setup();
      fake.put('prod/db', 'v');
      fake.faults.failAll(fault);

      const error = await failure('aws-sm://prod/db');

      expect(error.code).toBe('SECRET_UNAVAILABLE');
      expect(error.retryable).toBe(true);
      expect(error.context['sdkCode']).toBe(sdkCode);
      expect(fake.reads).toHaveLength(2);
    },
  );

  it('maps a reset connection and a closed port to SECRET_UNAVAILABLE', async () => {
    const { fake, failure } = await setup();
    fake.put('prod/db', 'v');
    fake.faults.failAll('reset');
    expect((await failure('aws-sm://prod/db')).code).toBe('SECRET_UNAVAILABLE');

    const closed = await setup({
      endpoint: `http://127.0.0.1:${await freePort()}`,
      maxAttempts: 1,
    });
    const error = await closed.failure('aws-sm://prod/db');
    expect(error.code).toBe('SECRET_UNAVAILABLE');
    expect(error.context['sdkCode']).toBe('ECONNREFUSED');
  });

  it('logs each read at debug with locator, duration and outcome, never the value', async () => {
    const { fake, env, read, failure } = await setup();
    const value = makeCanary('logged');
    fake.put('prod/db', value);
    await read('aws-sm://prod/db');
    await failure('aws-sm://prod/other');

    const lines = env.logs.records().filter((r) => r['msg'] === 'secret read');
    expect(lines).toMatchObject([
      { level: 'debug', store: 'aws-sm', locator: 'prod/db', outcome: 'ok' },
      { level: 'debug', store: 'aws-sm', locator: 'prod/other', outcome: 'SECRET_NOT_FOUND' },
    ]);
    expect(typeof lines[0]?.['durationMs']).toBe('number');
    expect(findCanary(value, { logs: env.logs.text() })).toEqual([]);
  });

  it('probes by resolving its credentials and reports a missing key reference', async () => {
    const { env, client } = await setup();
    const signal = AbortSignal.timeout(10_000);
    await expect(client.probe?.({ signal })).resolves.toBeUndefined();

    const broken = open(
      { region: 'us-east-1', auth: { ...STATIC_AUTH, accessKeyId: 'env://NOPE' } },
      env,
    );
    const error: unknown = await broken.client.probe?.({ signal }).catch((e: unknown) => e);
    expect(isPerimeterError(error, 'SECRET_NOT_FOUND')).toBe(true);
    expect((error as PerimeterError).context).toMatchObject({ key: 'auth.accessKeyId' });
  });

  it('closes idempotently and refuses reads afterwards', async () => {
    const { fake, client, failure } = await setup();
    fake.put('prod/db', 'v');
    await client.close();
    await client.close();

    const error = await failure('aws-sm://prod/db');
    expect(error.code).toBe('SECRET_UNAVAILABLE');
    expect(error.retryable).toBe(false);
    expect(fake.reads).toHaveLength(0);
  });

  it("takes the default region from the agent's environment when the profile has none", () => {
    const env = testStoreDeps({ environment: { AWS_REGION: 'eu-west-1' } });
    const store = open({ endpoint: 'https://vpce.example', allowedRegions: ['eu-west-1'] }, env);

    const ref = store.canonical('aws-sm://prod/db');

    expect(ref.locator).toBe('prod/db');
    expect(ref.details['region']).toBe('eu-west-1');
  });
});

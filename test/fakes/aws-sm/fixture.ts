import { randomBytes } from 'node:crypto';
import type {
  SecretStoreFixture,
  SecretStoreHarness,
} from '../../conformance/secret-store-fixture.ts';
import { FakeSecretsManager } from './secrets-manager.ts';

const PREFIX = 'conformance';

/**
 * `aws-sm` for the secret-store conformance suite: the real SDK against the Secrets Manager fake
 * (SigV4 checked on every call), with static keys given as `env://` references that the
 * resolver reads from the agent environment the fixture hands it. `maxAttempts: 1` leaves the
 * retries to the resolver, so the suite's counts are its own.
 */
export const awsSmFixture: SecretStoreFixture = {
  scheme: 'aws-sm',
  capabilities: { remove: true },
  async start(): Promise<SecretStoreHarness> {
    const fake = await FakeSecretsManager.start();
    const accessKeyId = `AKIA${randomBytes(8).toString('hex').toUpperCase()}`;
    const secretAccessKey = randomBytes(30).toString('base64');
    fake.addKey(accessKeyId, { secretAccessKey });
    const ref = (name: string): string => `aws-sm://${name}?store=conformance`;
    return {
      environment: { AWS_KEY_ID: accessKeyId, AWS_SECRET_KEY: secretAccessKey },
      profile: {
        type: 'aws-sm',
        allow: [`${PREFIX}/*`],
        region: 'us-east-1',
        endpoint: fake.url,
        maxAttempts: 1,
        auth: {
          type: 'static',
          accessKeyId: 'env://AWS_KEY_ID',
          secretAccessKey: 'env://AWS_SECRET_KEY',
        },
      },
      put(name, value) {
        fake.put(`${PREFIX}/${name}`, typeof value === 'string' ? value : Buffer.from(value));
        return Promise.resolve(ref(`${PREFIX}/${name}`));
      },
      remove(name) {
        fake.remove(`${PREFIX}/${name}`);
        return Promise.resolve();
      },
      missingRef: () => ref(`${PREFIX}/missing-${randomBytes(4).toString('hex')}`),
      deniedRef() {
        fake.put(`${PREFIX}/denied`, 'never-served');
        fake.deny(`${PREFIX}/denied`);
        return Promise.resolve(ref(`${PREFIX}/denied`));
      },
      disallowedRef: () => ref('elsewhere/secret'),
      failNext(count) {
        fake.faults.failNext(count, 'throttle');
      },
      failAll() {
        fake.faults.failAll('throttle');
      },
      restore() {
        fake.faults.restore();
      },
      delay(ms) {
        fake.faults.delay(ms);
      },
      readCount: () => fake.reads.length,
      close: () => fake.close(),
    };
  },
};

import { randomBytes } from 'node:crypto';
import type {
  SecretStoreFixture,
  SecretStoreHarness,
} from '../../conformance/secret-store-fixture.ts';
import { FakeSecretsManager } from './secrets-manager.ts';

const PREFIX = 'conformance';
const CREDENTIAL_VARIABLES = ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN'];

/**
 * `aws-sm` for the secret-store conformance suite: the real SDK against the Secrets Manager fake
 * (SigV4 checked on every call). The profile uses the SDK's default chain, fed through the
 * process environment (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, restored on close) as a pod's
 * environment would: the suite's resolver hands the env store an empty environment, so static
 * keys given as `env://` references (covered by secrets/aws-sm/store.test.ts) cannot resolve
 * here. `maxAttempts: 1` leaves the retries to the resolver, so the suite's counts are its own.
 */
export const awsSmFixture: SecretStoreFixture = {
  scheme: 'aws-sm',
  capabilities: { remove: true },
  async start(): Promise<SecretStoreHarness> {
    const fake = await FakeSecretsManager.start();
    const accessKeyId = `AKIA${randomBytes(8).toString('hex').toUpperCase()}`;
    const secretAccessKey = randomBytes(30).toString('base64');
    fake.addKey(accessKeyId, { secretAccessKey });
    const restoreEnvironment = useEnvironmentKeys(accessKeyId, secretAccessKey);
    const ref = (name: string): string => `aws-sm://${name}?store=conformance`;
    return {
      profile: {
        type: 'aws-sm',
        allow: [`${PREFIX}/*`],
        region: 'us-east-1',
        endpoint: fake.url,
        maxAttempts: 1,
        auth: { type: 'default' },
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
      async close() {
        restoreEnvironment();
        await fake.close();
      },
    };
  },
};

/** Puts the keys where the SDK's environment provider reads them; returns the undo. */
function useEnvironmentKeys(accessKeyId: string, secretAccessKey: string): () => void {
  const saved = Object.fromEntries(CREDENTIAL_VARIABLES.map((name) => [name, process.env[name]]));
  delete process.env['AWS_SESSION_TOKEN'];
  process.env['AWS_ACCESS_KEY_ID'] = accessKeyId;
  process.env['AWS_SECRET_ACCESS_KEY'] = secretAccessKey;
  return () => {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) {
        Reflect.deleteProperty(process.env, name);
      } else {
        process.env[name] = value;
      }
    }
  };
}

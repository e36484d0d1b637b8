import { randomBytes } from 'node:crypto';
import type {
  SecretStoreFixture,
  SecretStoreHarness,
} from '../../conformance/secret-store-fixture.ts';

const PREFIX = 'PERIMETER_CONFORMANCE_';

function variableName(name: string): string {
  return PREFIX + name.toUpperCase().replace(/[^A-Z0-9]/g, '_');
}

function unsupported(what: string): Error {
  return new Error(`The env store cannot ${what}: the fixture declares it in capabilities`);
}

/**
 * The env store as registered, over the agent environment the fixture hands the resolver: a
 * plain object behind a proxy that counts the variable reads (the "calls" of this store). Process
 * memory cannot refuse a read, fail transiently or be slow, so those cases are declared
 * unsupported rather than simulated.
 */
export const envStoreFixture: SecretStoreFixture = {
  scheme: 'env',
  capabilities: { denied: false, transientFailures: false, delay: false, remove: true },
  start(): Promise<SecretStoreHarness> {
    const variables: Record<string, string | undefined> = { HOME: '/root', PATH: '/usr/bin' };
    let reads = 0;
    const environment = new Proxy(variables, {
      get(target, key) {
        if (typeof key === 'string') {
          reads += 1;
          return target[key];
        }
        return undefined;
      },
    });
    const ref = (variable: string): string => `env://${variable}?store=conformance`;
    return Promise.resolve({
      environment,
      profile: { type: 'env', allow: [`${PREFIX}*`] },
      put(name, value) {
        variables[variableName(name)] = Buffer.from(value).toString('utf8');
        return Promise.resolve(ref(variableName(name)));
      },
      remove(name) {
        variables[variableName(name)] = undefined;
        return Promise.resolve();
      },
      missingRef: () => ref(`${PREFIX}MISSING_${randomBytes(4).toString('hex').toUpperCase()}`),
      deniedRef: () => Promise.reject(unsupported('deny a read')),
      disallowedRef: () => ref('HOME'),
      failNext() {
        throw unsupported('fail transiently');
      },
      failAll() {
        throw unsupported('fail transiently');
      },
      restore() {
        // Nothing to restore: no fault can be injected.
      },
      delay() {
        throw unsupported('be slowed down');
      },
      readCount: () => reads,
      close: () => Promise.resolve(),
    });
  },
};

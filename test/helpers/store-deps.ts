// The resolver's side of the store contract, faked, so that a store can be tested on its own.
import { PerimeterError, SecretValue } from '../../agent/plugin-api/index.ts';
import type { SecretStoreDeps, SecretStoreNetwork } from '../../agent/plugin-api/index.ts';
import { captureLogs } from './capture-logs.ts';
import type { CapturedLogs } from './capture-logs.ts';

/** Store deps for a store's own tests: a capturing logger and a map-backed `resolve`. */
export interface TestStoreDeps {
  readonly deps: SecretStoreDeps;
  readonly logs: CapturedLogs;
  /** The values `resolve` serves, by reference; change them to simulate a rotation. */
  readonly references: Map<string, string>;
  /** References resolved so far, in order. */
  readonly resolved: string[];
}

/**
 * A fake of our own `SecretStoreDeps` interface (the resolver's side), so a store can be tested
 * on its own. `resolve` answers SECRET_NOT_FOUND for an unknown reference, as the resolver would.
 */
export function testStoreDeps(
  options: {
    readonly references?: Record<string, string>;
    readonly network?: Partial<SecretStoreNetwork>;
    readonly environment?: Record<string, string | undefined>;
  } = {},
): TestStoreDeps {
  const logs = captureLogs({ level: 'debug' });
  const references = new Map(Object.entries(options.references ?? {}));
  const resolved: string[] = [];
  const deps: SecretStoreDeps = {
    profileName: 'test',
    logger: logs.logger,
    network: {
      extraCaPem: options.network?.extraCaPem,
      httpsProxy: options.network?.httpsProxy,
      noProxy: options.network?.noProxy,
    },
    environment: options.environment ?? {},
    redact(value) {
      logs.redactor.add(value);
    },
    resolve(ref, { signal }) {
      signal.throwIfAborted();
      resolved.push(ref);
      const value = references.get(ref);
      if (value === undefined) {
        return Promise.reject(new PerimeterError('SECRET_NOT_FOUND', `No test value for ${ref}`));
      }
      logs.redactor.add(value);
      return Promise.resolve(new SecretValue(value));
    },
  };
  return { deps, logs, references, resolved };
}

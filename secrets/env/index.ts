import { z } from 'zod';
import { PerimeterError, defineSecretStore } from '../../agent/plugin-api/index.ts';
import type {
  CanonicalSecretRef,
  FetchedSecret,
  SecretRef,
  SecretStoreDefinition,
  SecretStoreDeps,
} from '../../agent/plugin-api/index.ts';

/** The variables the env store reads: a snapshot or a live view of the process environment. */
export type Environment = Readonly<Record<string, string | undefined>>;

/** Options of {@link createEnvStore}. */
export interface EnvStoreOptions {
  /** Where variables are read; by default the environment the resolver hands to its stores. */
  readonly environment?: Environment;
}

/** The variables to read: the store's own option (tests), else the agent's environment. */
function environmentOf(options: EnvStoreOptions, deps: SecretStoreDeps): Environment {
  return options.environment ?? deps.environment;
}

// POSIX names: anything else is a typo or an attempt to smuggle a path through the locator.
const VARIABLE_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,254}$/;

/** The env store has no settings of its own: a profile is only its allowlist. */
const EnvProfileSchema = z.strictObject({});

function invalidRef(ref: SecretRef, problem: string): PerimeterError {
  return new PerimeterError(
    'SECRET_INVALID_REF',
    `Invalid env reference: ${problem}. Expected env://NAME (e.g. env://CYERA_CLIENT_ID)`,
    { context: { ref: ref.raw } },
  );
}

function canonicalize(ref: SecretRef): CanonicalSecretRef {
  if (!VARIABLE_NAME.test(ref.locator)) {
    throw invalidRef(ref, 'the locator is not a variable name ([A-Za-z_][A-Za-z0-9_]*)');
  }
  if (ref.version !== undefined) {
    throw invalidRef(ref, 'environment variables have no versions, remove ?version=');
  }
  return { locator: ref.locator, version: undefined, pinned: false, details: {} };
}

function read(
  environment: Environment,
  ref: CanonicalSecretRef,
  signal: AbortSignal,
): FetchedSecret {
  signal.throwIfAborted();
  const value = environment[ref.locator];
  // An empty variable is almost always a deployment mistake; failing beats sending "" as a password.
  if (value === undefined || value === '') {
    throw new PerimeterError(
      'SECRET_NOT_FOUND',
      'The environment variable is not set or is empty. Set it in the agent environment (Helm: extraEnv or envFrom)',
      { context: { ref: `env://${ref.locator}` } },
    );
  }
  return { value: Buffer.from(value, 'utf8'), versionId: undefined };
}

/**
 * Builds the `env://NAME` store over an environment. It makes no network call and never fails
 * transiently; the process environment does not change, so values are read once per soft TTL.
 */
export function createEnvStore(
  options: EnvStoreOptions = {},
): SecretStoreDefinition<typeof EnvProfileSchema> {
  return defineSecretStore({
    scheme: 'env',
    params: [],
    profileSchema: EnvProfileSchema,
    implicitProfile: {},
    create: (_profile, deps) => {
      const environment = environmentOf(options, deps);
      return {
        canonicalize,
        fetch: (ref, { signal }) => Promise.resolve().then(() => read(environment, ref, signal)),
        close: () => Promise.resolve(),
      };
    },
  });
}

/** The env store as registered: it reads the environment given to the resolver. */
export const envStore = createEnvStore();

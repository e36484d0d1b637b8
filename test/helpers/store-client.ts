// A secret store's client driven the way the resolver drives it, for the stores' own tests.
import { isPerimeterError } from '../../agent/plugin-api/index.ts';
import type {
  CanonicalSecretRef,
  FetchedSecret,
  PerimeterError,
  SecretStoreClient,
  SecretStoreDefinition,
  SecretStoreDeps,
} from '../../agent/plugin-api/index.ts';
import { parseSecretRef } from '../../agent/secrets/ref.ts';

/** A store client under test with the real reference parser in front of it. */
export interface StoreUnderTest {
  readonly client: SecretStoreClient;
  /** Parses `text` as a reference of this store and canonicalizes it (no network). */
  canonical(text: string): CanonicalSecretRef;
  /** Parses, canonicalizes and fetches `text`; by default gives up after 10 s. */
  read(text: string, signal?: AbortSignal): Promise<FetchedSecret>;
  /** Reads `text`, which must fail with a PerimeterError; returns that error. */
  failure(text: string): Promise<PerimeterError>;
  /** Reads `text`: the value as UTF-8 text, or what the read threw. */
  attempt(text: string): Promise<unknown>;
}

/**
 * Builds the client of `store` for one profile, its settings parsed by the store's own schema (so
 * defaults apply as in production). The caller closes `client`.
 */
export function openStore(
  store: SecretStoreDefinition,
  settings: Record<string, unknown>,
  deps: SecretStoreDeps,
): StoreUnderTest {
  const client = store.create(store.profileSchema.parse(settings), deps);
  const canonical = (text: string): CanonicalSecretRef =>
    client.canonicalize(parseSecretRef(text, [store]));
  const read = (text: string, signal = AbortSignal.timeout(10_000)): Promise<FetchedSecret> =>
    client.fetch(canonical(text), { signal });
  const failure = async (text: string): Promise<PerimeterError> => {
    const error: unknown = await read(text).then(
      () => new Error(`${text} was read, a failure was expected`),
      (caught: unknown) => caught,
    );
    if (!isPerimeterError(error)) {
      throw error;
    }
    return error;
  };
  const attempt = (text: string): Promise<unknown> =>
    read(text).then(
      (secret) => secret.value.toString('utf8'),
      (error: unknown) => error,
    );
  return { client, canonical, read, failure, attempt };
}

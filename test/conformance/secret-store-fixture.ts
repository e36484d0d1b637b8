import type { SecretStoreDefinition } from '../../agent/plugin-api/index.ts';

/**
 * What each secret store gives the secret-store conformance suite: a faithful fake of its wire
 * protocol, driven by the real SDK through the store's client. One fixture per store, listed in
 * `secret-store-fixtures.ts`.
 *
 * The suite runs the store as production does: `harness.profile` is parsed through the agent's
 * `secretStores` schema (the store's `profileSchema` with `type`, `allow` and its defaults), and
 * the resolver gets `harness.environment` as the agent's environment, where credential
 * references of the profile (`env://…`) resolve through the implicit env profile. A fixture
 * therefore writes its profile as an operator would, without spelling out defaults, and never
 * touches `process.env`.
 *
 * Optional parts:
 * - `capabilities`: a store that by its nature cannot be denied, fail transiently or be slowed
 *   down (env reads process memory) says so, and the suite does not generate those cases for it;
 *   `remove` opts in to the "never stale after not found" case.
 * - `harness.store`: the definition to use instead of the registered one of the same scheme
 *   (file over a fault-injecting reader).
 * - `harness.environment`: the agent's environment (empty when absent).
 * - `harness.remove(name)`: deletes a secret, so a cached reference turns into not found.
 */
export interface SecretStoreFixture {
  /** The store's scheme, e.g. `aws-sm`. */
  readonly scheme: string;
  /** What the store can be made to do; omitted means every default below. */
  readonly capabilities?: SecretStoreCapabilities;
  /** Starts the fake(s) and returns a harness. Each call gets fresh state. */
  start(): Promise<SecretStoreHarness>;
}

/** Which conformance cases a store can take part in. */
export interface SecretStoreCapabilities {
  /** `deniedRef()` gives a reference the store refuses. Default true. */
  readonly denied?: boolean;
  /** `failNext()` and `failAll()` make reads fail transiently. Default true. */
  readonly transientFailures?: boolean;
  /** `delay()` slows reads down. Default true. */
  readonly delay?: boolean;
  /** `harness.remove()` is implemented. Default false. */
  readonly remove?: boolean;
}

export interface SecretStoreHarness {
  /** The definition to use for this scheme instead of the one registered in secrets/index.ts. */
  readonly store?: SecretStoreDefinition;
  /**
   * The agent's environment handed to the resolver (and so to the env store and to SDK default
   * chains that read `deps.environment`): the variables the profile's `env://` credentials need.
   */
  readonly environment?: Readonly<Record<string, string | undefined>>;
  /**
   * The `secretStores.<profile>` config entry (type, allow and store settings) that points the
   * store at the fake. The suite registers it under the profile name `conformance`.
   */
  readonly profile: Record<string, unknown>;
  /**
   * Creates or replaces a secret and returns a reference to it (with `?store=conformance` and
   * no selector; the suite appends `#key` selectors itself). Replacing is a rotation: the fake
   * records a new version and the floating reference now points at it.
   *
   * The reference may carry the store's own params after `?store=conformance`. A store whose
   * secrets are maps of fields (Vault KV) stores a JSON object's keys as its fields and anything
   * else in one field, and then returns the reference with a param that reads that field alone,
   * e.g. `vault://secret/app?store=conformance&field=value` (with `&decode=base64` for bytes),
   * so that the payload is the value given here.
   */
  put(name: string, value: string | Buffer): Promise<string>;
  /** Deletes a secret (every version); required when `capabilities.remove` is true. */
  remove?(name: string): Promise<void>;
  /** A reference, within the allowlist, to a secret the fake does not hold. */
  missingRef(): string;
  /** A reference, within the allowlist, that the fake answers with access denied. */
  deniedRef(): Promise<string>;
  /** A reference outside the profile's allowlist (must be refused before any call). */
  disallowedRef(): string;
  /** The next `count` reads answer a transient error (throttling or 5xx) and then recover. */
  failNext(count: number): void;
  /** Every read answers a transient error until `restore()`. */
  failAll(): void;
  restore(): void;
  /** Delays every read by `ms` (to test abort). */
  delay(ms: number): void;
  /** Secret reads the fake has served or failed so far (auth calls not counted). */
  readCount(): number;
  close(): Promise<void>;
}

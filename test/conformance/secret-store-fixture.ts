/**
 * What each secret store gives the secret-store conformance suite: a faithful fake of its wire
 * protocol, driven by the real SDK through the store's client. One fixture per store, listed in
 * `secret-store-fixtures.ts`.
 */
export interface SecretStoreFixture {
  /** The store's scheme, e.g. `aws-sm`. */
  readonly scheme: string;
  /** Starts the fake(s) and returns a harness. Each call gets fresh state. */
  start(): Promise<SecretStoreHarness>;
}

export interface SecretStoreHarness {
  /**
   * The `secretStores.<profile>` config entry (type, allow and store settings) that points the
   * store at the fake. The suite registers it under the profile name `conformance`.
   */
  readonly profile: Record<string, unknown>;
  /**
   * Creates or replaces a secret and returns a reference to it (with `?store=conformance` and
   * no selector; the suite appends `#key` selectors itself). Replacing is a rotation: the fake
   * records a new version and the floating reference now points at it.
   */
  put(name: string, value: string | Buffer): Promise<string>;
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

import { inspect } from 'node:util';
import { z } from 'zod';
import type { Logger } from './logger.ts';

const REDACTED = '[redacted]';

/**
 * A secret value in memory. It prints as `[redacted]` through String(), JSON and util.inspect,
 * and is registered with the log redactor by the resolver that created it. Call `reveal()` only
 * at the point of use (building a request body or header).
 */
export class SecretValue {
  readonly #bytes: Buffer;

  constructor(value: string | Buffer) {
    this.#bytes = typeof value === 'string' ? Buffer.from(value, 'utf8') : Buffer.from(value);
  }

  /** The value as UTF-8 text. */
  reveal(): string {
    return this.#bytes.toString('utf8');
  }

  /**
   * The value as bytes (binary secrets, certificates). A copy: zero-fill it after use. It has
   * memory of its own, never a slice of Node's shared buffer pool, so posting it to a run thread
   * copies these bytes alone, not the pool around them (other values the process held).
   */
  revealBytes(): Buffer {
    const copy = Buffer.alloc(this.#bytes.length);
    this.#bytes.copy(copy);
    return copy;
  }

  /** Overwrites the bytes held (best effort: strings already derived from it stay in the heap). */
  destroy(): void {
    this.#bytes.fill(0);
  }

  toString(): string {
    return REDACTED;
  }

  toJSON(): string {
    return REDACTED;
  }

  [inspect.custom](): string {
    return `SecretValue(${REDACTED})`;
  }
}

/**
 * Schema for a credential field of a connector's config: after resolution the field holds a
 * {@link SecretValue}. In a job file the same field holds a secret reference string.
 */
export function secretValueSchema(): z.ZodType<SecretValue> {
  return z.instanceof(SecretValue, {
    message:
      'must be a secret reference (scheme://locator, e.g. env://NAME), never a literal value',
  });
}

/** Which part of a secret's payload a reference selects. */
export type SecretSelector =
  | { readonly kind: 'key'; readonly key: string }
  | { readonly kind: 'pointer'; readonly pointer: string; readonly tokens: readonly string[] };

/** How the payload is decoded before the selector applies. */
export type SecretDecoding = 'none' | 'base64' | 'base64url';

/**
 * A parsed secret reference: `scheme://locator[?params][#selector]`
 * (grammar: docs/secrets.md). A reference never holds a secret, so it may be logged.
 */
export interface SecretRef {
  /** The reference as written. */
  readonly raw: string;
  /** The store's scheme, e.g. `aws-sm`. */
  readonly scheme: string;
  /** The store-specific locator, percent-decoded. */
  readonly locator: string;
  /** The store profile the reference uses (`?store=`, else the scheme's default profile). */
  readonly profile: string;
  /** `?version=`: store-specific meaning; undefined means the floating latest version. */
  readonly version: string | undefined;
  /** Store-specific params (the common ones, store/version/decode/max-age, are removed). */
  readonly params: Readonly<Record<string, string>>;
  readonly selector: SecretSelector | undefined;
  readonly decode: SecretDecoding;
  /** `?max-age=`: per-reference soft cache TTL override, in seconds. */
  readonly maxAgeSeconds: number | undefined;
}

/** A reference after a store validated it: the canonical, loggable form used as cache key. */
export interface CanonicalSecretRef {
  /** Canonical locator: resolved ARN or name, normalised API path, vault host + name. */
  readonly locator: string;
  /** Explicit version selector, or undefined for the floating latest. */
  readonly version: string | undefined;
  /** True when the version can never change (pinned id or number): cached for a long time. */
  readonly pinned: boolean;
  /** Store-specific parts that `fetch` needs (region, vault URL, mount, KV version...). */
  readonly details: Readonly<Record<string, string>>;
}

/** What a store returns for one reference: the whole payload, before decoding and selector. */
export interface FetchedSecret {
  readonly value: Buffer;
  /** The store's identity of the version read (AWS VersionId, Azure version, GCP name, Vault version). */
  readonly versionId: string | undefined;
  /** Lease of a dynamic secret in seconds; caps the cache TTL. */
  readonly leaseSeconds?: number;
}

/** Network settings the agent hands to every store client (the SDKs have their own HTTP stacks). */
export interface SecretStoreNetwork {
  /** Extra CA certificates (PEM) to trust on top of the system roots. */
  readonly extraCaPem: string | undefined;
  readonly httpsProxy: string | undefined;
  readonly noProxy: string | undefined;
}

/** What the agent gives a store when it builds a client for one profile. */
export interface SecretStoreDeps {
  readonly profileName: string;
  readonly logger: Logger;
  readonly network: SecretStoreNetwork;
  /**
   * The agent's environment, for stores that read it (`env://`, SDK default credential chains);
   * handed in by the composition root, the one place that reads `process.env`.
   */
  readonly environment: Readonly<Record<string, string | undefined>>;
  /** Registers a derived credential (Vault token, OAuth token) with the log redactor. */
  redact(value: string): void;
  /**
   * Resolves another reference, for store credentials that are themselves references
   * (static AWS keys, a Vault AppRole secret id). Never resolves through the same profile.
   */
  resolve(ref: string, options: { readonly signal: AbortSignal }): Promise<SecretValue>;
}

/** One store client, for one profile. Built lazily: `create` makes no network call. */
export interface SecretStoreClient {
  /**
   * Validates a reference for this store and returns its canonical form. No network.
   * Throws SECRET_INVALID_REF, or SECRET_REF_DENIED for a target the profile does not allow
   * (e.g. an Azure vault outside `allowedVaults`).
   */
  canonicalize(ref: SecretRef): CanonicalSecretRef;
  /**
   * Reads the whole payload. Throws PerimeterError SECRET_NOT_FOUND | SECRET_ACCESS_DENIED |
   * SECRET_UNAVAILABLE (retryable, with retryAfterMs when the store said so). Honours `signal`.
   */
  fetch(ref: CanonicalSecretRef, options: { readonly signal: AbortSignal }): Promise<FetchedSecret>;
  /** Cheap authenticated reachability probe, for /readyz and `perimeter check`. */
  probe?(options: { readonly signal: AbortSignal }): Promise<void>;
  /** Releases clients and revokes login-derived tokens. Idempotent, bounded in time. */
  close(): Promise<void>;
}

/** A secret store implementation: one per folder under secrets/. */
export interface SecretStoreDefinition<P extends z.ZodType = z.ZodType> {
  /** The reference scheme and folder name, e.g. `aws-sm`. */
  readonly scheme: string;
  /** Store-specific reference params it accepts (besides store, version, decode, max-age). */
  readonly params: readonly string[];
  /** Schema of a profile's store-specific settings (endpoint, auth, TLS). */
  readonly profileSchema: P;
  /** Settings of the profile that exists without configuration (env, file); none for vaults. */
  readonly implicitProfile?: z.input<P>;
  /** Builds the client of one profile. */
  create(profile: z.output<P>, deps: SecretStoreDeps): SecretStoreClient;
}

/** Declares a secret store; a typed identity function. */
export function defineSecretStore<P extends z.ZodType>(
  definition: SecretStoreDefinition<P>,
): SecretStoreDefinition<P> {
  return definition;
}

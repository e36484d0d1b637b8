import type { SecretManagerServiceClient } from '@google-cloud/secret-manager';
import type { googleAuthLibrary } from 'google-gax';
import { PerimeterError, raceAbort } from '../../agent/plugin-api/index.ts';
import type {
  CanonicalSecretRef,
  FetchedSecret,
  SecretStoreBackend,
  SecretStoreDeps,
} from '../../agent/plugin-api/index.ts';
import { crc32c } from './crc32c.ts';
import { buildGoogleAuth } from './credentials.ts';
import { endpointFor } from './endpoint.ts';
import type { GcpSmProfile } from './profile.ts';
import { readWithRetries } from './attempts.ts';
import { attemptOptions, createSecretManagerClient, createTransporter } from './transport.ts';

type GoogleAuth = googleAuthLibrary.GoogleAuth;

/** How long building the credentials may take (reading a key reference, a config file). */
const CREDENTIALS_TIMEOUT_MS = 30_000;

/** `dataCrc32c` as decimal text: a string over REST, a string or a protobuf Long over gRPC. */
function checksumText(value: unknown): string | undefined {
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'bigint') {
    return value.toString();
  }
  if (typeof value === 'object' && value !== null && 'low' in value) {
    return (value as { toString(): string }).toString();
  }
  return undefined;
}

/** Checks `dataCrc32c` when the service sent one (reference §3.5, pitfall 1). */
function verifyChecksum(data: Buffer, expected: unknown, locator: string): void {
  const text = checksumText(expected);
  if (text !== undefined && text !== String(crc32c(data))) {
    throw new PerimeterError(
      'SECRET_UNAVAILABLE',
      'The payload read from GCP Secret Manager failed its CRC32C check (corrupted in transit). Perimeter retries the read',
      { context: { store: 'gcp-sm', locator } },
    );
  }
}

/**
 * The SDK side of one `gcp-sm` profile: one credential and one SDK client per endpoint, built on
 * first use and closed together.
 */
class GcpBackend implements SecretStoreBackend {
  readonly #profile: GcpSmProfile;
  readonly #deps: SecretStoreDeps;
  readonly #lifetime: AbortSignal;
  readonly #transporter: ReturnType<typeof createTransporter>;
  readonly #clients = new Map<string, SecretManagerServiceClient>();
  #auth: Promise<GoogleAuth> | undefined;

  constructor(profile: GcpSmProfile, deps: SecretStoreDeps, lifetime: AbortSignal) {
    this.#profile = profile;
    this.#deps = deps;
    this.#lifetime = lifetime;
    this.#transporter = createTransporter(deps);
    if (profile.transport === 'grpc' && deps.network.httpsProxy !== undefined) {
      // grpc-js reads https_proxy / no_proxy from the process environment only.
      deps.logger.warn({ transport: 'grpc' }, 'gcp-sm grpc ignores the configured proxy');
    }
  }

  async read(ref: CanonicalSecretRef, signal: AbortSignal): Promise<FetchedSecret> {
    const client = await this.#clientFor(ref.details['location'] ?? '', signal);
    const request = { name: ref.details['versionName'] ?? '' };
    const [response] = await readWithRetries(
      (timeoutMs) => client.accessSecretVersion(request, attemptOptions(timeoutMs)),
      {
        attemptTimeoutMs: this.#profile.attemptTimeoutMs,
        totalTimeoutMs: this.#profile.totalTimeoutMs,
        signal,
      },
    );
    const data = response.payload?.data;
    if (data === null || data === undefined) {
      throw new PerimeterError(
        'SECRET_UNAVAILABLE',
        'GCP Secret Manager answered without a payload',
        {
          retryable: false,
          context: { store: 'gcp-sm', locator: ref.locator },
        },
      );
    }
    const value = typeof data === 'string' ? Buffer.from(data, 'base64') : Buffer.from(data);
    verifyChecksum(value, response.payload?.dataCrc32c, ref.locator);
    return { value, versionId: response.name ?? undefined };
  }

  async probe(signal: AbortSignal): Promise<void> {
    const auth = await raceAbort(this.#googleAuth(), signal);
    // Acquiring the bearer proves the credentials (key, STS exchange, metadata token) without
    // reading a secret or needing a permission beyond secretAccessor.
    const client = await raceAbort(auth.getClient(), signal);
    await client.getRequestHeaders();
  }

  async close(): Promise<void> {
    const all = [...this.#clients.values()].map((client) => client.close());
    this.#clients.clear();
    await Promise.allSettled(all);
  }

  // One credential per profile, built once for every caller (so one caller's abort does not fail
  // the others); a failed build is retried on the next use.
  #googleAuth(): Promise<GoogleAuth> {
    this.#auth ??= buildGoogleAuth({
      auth: this.#profile.auth,
      // The SDK wants a project id to skip its project detection; reads name theirs explicitly.
      projectId: this.#profile.allowedProjects[0] ?? '',
      tokenHosts: this.#profile.tokenHosts,
      transporter: this.#transporter,
      deps: this.#deps,
      signal: AbortSignal.any([this.#lifetime, AbortSignal.timeout(CREDENTIALS_TIMEOUT_MS)]),
    }).catch((error: unknown) => {
      this.#auth = undefined;
      throw error;
    });
    return this.#auth;
  }

  async #clientFor(location: string, signal: AbortSignal): Promise<SecretManagerServiceClient> {
    const auth = await raceAbort(this.#googleAuth(), signal);
    this.#lifetime.throwIfAborted();
    let client = this.#clients.get(location);
    if (client === undefined) {
      const endpoint = endpointFor(this.#profile, location);
      client = createSecretManagerClient(endpoint, this.#profile, auth, this.#deps);
      this.#clients.set(location, client);
    }
    return client;
  }
}

/** Builds the SDK side of a `gcp-sm` profile (no network call until the first read or probe). */
export function createGcpBackend(
  profile: GcpSmProfile,
  deps: SecretStoreDeps,
  lifetime: AbortSignal,
): SecretStoreBackend {
  return new GcpBackend(profile, deps, lifetime);
}

import type { SecretManagerServiceClient } from '@google-cloud/secret-manager';
import type { googleAuthLibrary } from 'google-gax';
import { PerimeterError } from '../../agent/plugin-api/index.ts';
import type {
  CanonicalSecretRef,
  FetchedSecret,
  SecretRef,
  SecretStoreClient,
  SecretStoreDeps,
} from '../../agent/plugin-api/index.ts';
import { crc32c } from './crc32c.ts';
import { buildGoogleAuth } from './credentials.ts';
import { endpointFor } from './endpoint.ts';
import { mapGcpError } from './errors.ts';
import { canonicalizeGcpRef } from './locator.ts';
import type { GcpSmProfile } from './profile.ts';
import { callOptionsFor, createSecretManagerClient, createTransporter } from './transport.ts';

type GoogleAuth = googleAuthLibrary.GoogleAuth;

/** How long `close()` waits for the SDK clients to release their channels. */
const CLOSE_TIMEOUT_MS = 2_000;

/** Rejects when `signal` aborts; the SDK call itself runs on to its own (bounded) deadline. */
async function raceAbort<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  signal.throwIfAborted();
  const aborted = Promise.withResolvers<never>();
  const onAbort = (): void => {
    aborted.reject(signal.reason as Error);
  };
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    return await Promise.race([promise, aborted.promise]);
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
}

function checksumMismatch(locator: string, versionId: string | undefined): PerimeterError {
  return new PerimeterError(
    'SECRET_UNAVAILABLE',
    'The payload read from GCP Secret Manager failed its CRC32C check (corrupted in transit). Perimeter retries the read',
    { context: { store: 'gcp-sm', locator, versionId } },
  );
}

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
function verifyChecksum(
  data: Buffer,
  expected: unknown,
  locator: string,
  versionId: string | undefined,
): void {
  const text = checksumText(expected);
  if (text === undefined) {
    return;
  }
  if (text !== String(crc32c(data))) {
    throw checksumMismatch(locator, versionId);
  }
}

/** How long building the credentials may take (reading a key reference, a config file). */
const CREDENTIALS_TIMEOUT_MS = 30_000;

function storeClosed(): PerimeterError {
  return new PerimeterError('SECRET_UNAVAILABLE', 'The gcp-sm store is closed', {
    retryable: false,
    context: { store: 'gcp-sm' },
  });
}

/**
 * The `gcp-sm` client of one profile: one credential and one SDK client per endpoint, built on
 * first use (no network call before the first fetch or probe) and closed together.
 */
class GcpSmClient implements SecretStoreClient {
  readonly #profile: GcpSmProfile;
  readonly #deps: SecretStoreDeps;
  readonly #transporter: ReturnType<typeof createTransporter>;
  readonly #clients = new Map<string, SecretManagerServiceClient>();
  readonly #callOptions: ReturnType<typeof callOptionsFor>;
  #auth: Promise<GoogleAuth> | undefined;
  #closing: Promise<void> | undefined;

  constructor(profile: GcpSmProfile, deps: SecretStoreDeps) {
    this.#profile = profile;
    this.#deps = deps;
    this.#transporter = createTransporter(deps);
    this.#callOptions = callOptionsFor(profile);
    if (profile.transport === 'grpc' && deps.network.httpsProxy !== undefined) {
      // grpc-js reads https_proxy / no_proxy from the process environment only.
      deps.logger.warn({ transport: 'grpc' }, 'gcp-sm grpc ignores the configured proxy');
    }
  }

  canonicalize(ref: SecretRef): CanonicalSecretRef {
    return canonicalizeGcpRef(ref, this.#profile.allowedProjects);
  }

  async fetch(
    ref: CanonicalSecretRef,
    { signal }: { readonly signal: AbortSignal },
  ): Promise<FetchedSecret> {
    const started = performance.now();
    let outcome = 'error';
    try {
      const fetched = await this.#read(ref, signal);
      outcome = 'ok';
      return fetched;
    } catch (error) {
      if (signal.aborted) {
        outcome = 'aborted';
        throw signal.reason;
      }
      const mapped = mapGcpError(error, ref.locator);
      outcome = mapped instanceof PerimeterError ? mapped.code : outcome;
      throw mapped;
    } finally {
      const durationMs = Math.round(performance.now() - started);
      this.#deps.logger.debug({ locator: ref.locator, durationMs, outcome }, 'gcp-sm read');
    }
  }

  async probe({ signal }: { readonly signal: AbortSignal }): Promise<void> {
    try {
      const auth = await raceAbort(this.#googleAuth(), signal);
      // Acquiring the bearer proves the credentials (key, STS exchange, metadata token) without
      // reading a secret or needing a permission beyond secretAccessor.
      const client = await raceAbort(auth.getClient(), signal);
      await raceAbort(client.getRequestHeaders(), signal);
    } catch (error) {
      throw signal.aborted ? signal.reason : mapGcpError(error, 'probe');
    }
  }

  close(): Promise<void> {
    this.#closing ??= (async () => {
      const all = [...this.#clients.values()].map((client) => client.close());
      this.#clients.clear();
      // Bounded: a channel that does not close in time is left to the process exit.
      await raceAbort(Promise.allSettled(all), AbortSignal.timeout(CLOSE_TIMEOUT_MS)).catch(
        () => undefined,
      );
    })();
    return this.#closing;
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
      signal: AbortSignal.timeout(CREDENTIALS_TIMEOUT_MS),
    }).catch((error: unknown) => {
      this.#auth = undefined;
      throw error;
    });
    return this.#auth;
  }

  async #clientFor(location: string, signal: AbortSignal): Promise<SecretManagerServiceClient> {
    const auth = await raceAbort(this.#googleAuth(), signal);
    if (this.#closing !== undefined) {
      throw storeClosed();
    }
    let client = this.#clients.get(location);
    if (client === undefined) {
      const endpoint = endpointFor(this.#profile, location);
      client = createSecretManagerClient(endpoint, this.#profile, auth, this.#deps);
      this.#clients.set(location, client);
    }
    return client;
  }

  async #read(ref: CanonicalSecretRef, signal: AbortSignal): Promise<FetchedSecret> {
    const client = await this.#clientFor(ref.details['location'] ?? '', signal);
    const request = { name: ref.details['versionName'] ?? '' };
    const [response] = await raceAbort(
      client.accessSecretVersion(request, this.#callOptions),
      signal,
    );
    const versionId = response.name ?? undefined;
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
    verifyChecksum(value, response.payload?.dataCrc32c, ref.locator, versionId);
    return { value, versionId };
  }
}

/** Builds the `gcp-sm` client of one profile. No network call until the first fetch or probe. */
export function createGcpSmClient(profile: GcpSmProfile, deps: SecretStoreDeps): SecretStoreClient {
  return new GcpSmClient(profile, deps);
}

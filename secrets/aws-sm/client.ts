import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { GetSecretValueCommandOutput } from '@aws-sdk/client-secrets-manager';
import { PerimeterError, createStoreAgent } from '../../agent/plugin-api/index.ts';
import type {
  CanonicalSecretRef,
  FetchedSecret,
  SecretStoreBackend,
  SecretStoreDeps,
} from '../../agent/plugin-api/index.ts';
import { StaticKeys } from './credentials.ts';
import type { AwsCredentialIdentity } from './credentials.ts';
import type { AwsSmProfile } from './profile.ts';

// Key of the client that uses the SDK's default region (AWS_REGION, shared config file).
const DEFAULT_REGION_KEY = '';

/**
 * The SDK side of one `aws-sm` profile: one SecretsManagerClient per region, built on first use
 * and kept (the SDK memoises credentials and sockets per client, reference §1.5). Every client
 * shares the profile's HTTPS agent: the AWS SDK reads neither HTTPS_PROXY nor AWS_CA_BUNDLE, and
 * the STS client of the web-identity provider inherits the same request handler.
 */
class AwsBackend implements SecretStoreBackend {
  readonly #profile: AwsSmProfile;
  readonly #deps: SecretStoreDeps;
  readonly #lifetime: AbortSignal;
  readonly #clients = new Map<string, SecretsManagerClient>();
  readonly #staticKeys: StaticKeys | undefined;
  readonly #agent: ReturnType<typeof createStoreAgent>;

  constructor(profile: AwsSmProfile, deps: SecretStoreDeps, lifetime: AbortSignal) {
    this.#profile = profile;
    this.#deps = deps;
    this.#lifetime = lifetime;
    this.#agent = createStoreAgent(deps.network);
    this.#staticKeys =
      profile.auth.type === 'static' ? new StaticKeys(profile.auth, deps, lifetime) : undefined;
  }

  async read(ref: CanonicalSecretRef, signal: AbortSignal): Promise<FetchedSecret> {
    await this.#staticKeys?.get(signal);
    const command = new GetSecretValueCommand({
      SecretId: ref.details['secretId'],
      VersionId: ref.details['versionId'],
      VersionStage: ref.details['versionStage'],
    });
    const output = await this.#client(ref.details['region']).send(command, { abortSignal: signal });
    return {
      value: payloadOf(output, ref.locator, this.#deps.profileName),
      versionId: output.VersionId,
    };
  }

  /**
   * Readiness: obtains credentials (for IRSA an STS AssumeRoleWithWebIdentity call). It does not
   * call Secrets Manager: a least-privilege role has no list permission, and a probe read would
   * put an AccessDenied in CloudTrail every few seconds.
   */
  async probe(): Promise<void> {
    await this.#client(this.#profile.region).config.credentials();
  }

  close(): Promise<void> {
    for (const client of this.#clients.values()) {
      client.destroy();
    }
    this.#clients.clear();
    this.#agent.destroy();
    return Promise.resolve();
  }

  #client(region: string | undefined): SecretsManagerClient {
    const key = region ?? DEFAULT_REGION_KEY;
    let client = this.#clients.get(key);
    if (client === undefined) {
      client = this.#createClient(region);
      this.#clients.set(key, client);
    }
    return client;
  }

  #createClient(region: string | undefined): SecretsManagerClient {
    const profile = this.#profile;
    const staticKeys = this.#staticKeys;
    const lifetime = this.#lifetime;
    const client = new SecretsManagerClient({
      region,
      endpoint: profile.endpoint,
      maxAttempts: profile.maxAttempts,
      credentials:
        staticKeys === undefined
          ? undefined
          : (): Promise<AwsCredentialIdentity> => staticKeys.get(lifetime),
      requestHandler: {
        httpsAgent: this.#agent,
        connectionTimeout: profile.requestTimeoutMs,
        requestTimeout: profile.requestTimeoutMs,
      },
    });
    this.#redactSessionTokens(client);
    return client;
  }

  /**
   * Registers the session token of every signed request with the log redactor: with the default
   * chain the SDK obtains temporary credentials itself (IRSA, Pod Identity), out of our sight.
   */
  #redactSessionTokens(client: SecretsManagerClient): void {
    client.middlewareStack.add(
      (next) => async (args) => {
        const request = args.request as { headers?: Record<string, string> } | undefined;
        const token = request?.headers?.['x-amz-security-token'];
        if (token !== undefined) {
          this.#deps.redact(token);
        }
        return next(args);
      },
      { step: 'deserialize', name: 'perimeterRedactSessionToken', priority: 'low' },
    );
  }
}

function payloadOf(output: GetSecretValueCommandOutput, locator: string, profile: string): Buffer {
  if (output.SecretString !== undefined) {
    return Buffer.from(output.SecretString, 'utf8');
  }
  if (output.SecretBinary !== undefined) {
    // The SDK has already decoded the base64 of the wire: decoding again corrupts (§1.5).
    const value = Buffer.from(output.SecretBinary);
    output.SecretBinary.fill(0);
    return value;
  }
  throw new PerimeterError(
    'SECRET_NOT_FOUND',
    `AWS Secrets Manager (profile ${profile}) for ${locator}: the version holds neither SecretString nor SecretBinary.`,
    { context: { store: 'aws-sm', profile, locator } },
  );
}

/** Builds the SDK side of an `aws-sm` profile (no network call until the first read or probe). */
export function createAwsBackend(
  profile: AwsSmProfile,
  deps: SecretStoreDeps,
  lifetime: AbortSignal,
): SecretStoreBackend {
  return new AwsBackend(profile, deps, lifetime);
}

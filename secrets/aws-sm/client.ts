import type { Agent } from 'node:https';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { GetSecretValueCommandOutput } from '@aws-sdk/client-secrets-manager';
import { PerimeterError } from '../../agent/plugin-api/index.ts';
import type {
  CanonicalSecretRef,
  FetchedSecret,
  Logger,
  SecretRef,
  SecretStoreClient,
  SecretStoreDeps,
} from '../../agent/plugin-api/index.ts';
import { StaticKeys, raceAbort } from './credentials.ts';
import type { AwsCredentialIdentity } from './credentials.ts';
import { mapAwsError } from './errors.ts';
import { canonicalizeAwsRef } from './locator.ts';
import { createHttpsAgent } from './network.ts';
import type { AwsSmProfile } from './profile.ts';

// Key of the client that uses the SDK's default region (AWS_REGION, shared config file).
const DEFAULT_REGION_KEY = '';

/**
 * The `aws-sm` client of one profile: one SecretsManagerClient per region, built on first use
 * and kept (the SDK memoises credentials and sockets per client, reference §1.5).
 */
export class AwsSecretsManagerStore implements SecretStoreClient {
  readonly #profile: AwsSmProfile;
  readonly #deps: SecretStoreDeps;
  readonly #logger: Logger;
  readonly #lifetime = new AbortController();
  readonly #clients = new Map<string, SecretsManagerClient>();
  readonly #staticKeys: StaticKeys | undefined;
  #agent: Agent | undefined;

  constructor(profile: AwsSmProfile, deps: SecretStoreDeps) {
    // The region of names without ?region=: the profile's, else the pod's (the EKS webhook sets
    // AWS_REGION), so that canonical locators and the region allowlist know it up front.
    const region =
      profile.region ?? deps.environment['AWS_REGION'] ?? deps.environment['AWS_DEFAULT_REGION'];
    this.#profile = { ...profile, region };
    this.#deps = deps;
    this.#logger = deps.logger.child({ store: 'aws-sm', profile: deps.profileName });
    this.#staticKeys =
      profile.auth.type === 'static'
        ? new StaticKeys(profile.auth, deps, this.#lifetime.signal)
        : undefined;
  }

  canonicalize(ref: SecretRef): CanonicalSecretRef {
    return canonicalizeAwsRef(ref, this.#profile);
  }

  async fetch(
    ref: CanonicalSecretRef,
    options: { readonly signal: AbortSignal },
  ): Promise<FetchedSecret> {
    const { signal } = options;
    const started = performance.now();
    const log = (outcome: string): void => {
      const durationMs = Math.round(performance.now() - started);
      this.#logger.debug(
        { locator: ref.locator, version: ref.version, durationMs, outcome },
        'secret read',
      );
    };
    try {
      this.#assertOpen();
      await this.#staticKeys?.get(signal);
      const client = this.#client(ref.details['region']);
      const command = new GetSecretValueCommand({
        SecretId: ref.details['secretId'],
        VersionId: ref.details['versionId'],
        VersionStage: ref.details['versionStage'],
      });
      const output = await raceAbort(client.send(command, { abortSignal: signal }), signal);
      const value = payloadOf(output, ref.locator, this.#deps.profileName);
      log('ok');
      return { value, versionId: output.VersionId };
    } catch (error) {
      if (signal.aborted) {
        log('aborted');
        throw signal.reason;
      }
      const mapped = mapAwsError(error, { profile: this.#deps.profileName, locator: ref.locator });
      log(mapped.code);
      throw mapped;
    }
  }

  /**
   * Readiness: obtains credentials (for IRSA an STS AssumeRoleWithWebIdentity call). It does not
   * call Secrets Manager: a least-privilege role has no list permission, and a probe read would
   * put an AccessDenied in CloudTrail every few seconds.
   */
  async probe(options: { readonly signal: AbortSignal }): Promise<void> {
    const { signal } = options;
    try {
      this.#assertOpen();
      const client = this.#client(this.#profile.region);
      await raceAbort(client.config.credentials(), signal);
    } catch (error) {
      if (signal.aborted) {
        throw signal.reason;
      }
      throw mapAwsError(error, { profile: this.#deps.profileName, locator: 'probe' });
    }
  }

  close(): Promise<void> {
    this.#lifetime.abort(new PerimeterError('RUN_ABORTED', 'The aws-sm store is closing'));
    for (const client of this.#clients.values()) {
      client.destroy();
    }
    this.#clients.clear();
    this.#agent?.destroy();
    this.#agent = undefined;
    return Promise.resolve();
  }

  #assertOpen(): void {
    if (this.#lifetime.signal.aborted) {
      throw new PerimeterError(
        'SECRET_UNAVAILABLE',
        `The aws-sm profile ${this.#deps.profileName} is closed.`,
        {
          retryable: false,
          context: { store: 'aws-sm', profile: this.#deps.profileName },
        },
      );
    }
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
    this.#agent ??= createHttpsAgent(this.#deps.network);
    const staticKeys = this.#staticKeys;
    const lifetime = this.#lifetime.signal;
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
    {
      context: { store: 'aws-sm', profile, locator },
    },
  );
}

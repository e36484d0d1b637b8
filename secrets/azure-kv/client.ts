import type { Agent } from 'node:https';
import { SecretClient } from '@azure/keyvault-secrets';
import { PerimeterError } from '../../agent/plugin-api/index.ts';
import type {
  CanonicalSecretRef,
  FetchedSecret,
  Logger,
  SecretRef,
  SecretStoreClient,
  SecretStoreDeps,
} from '../../agent/plugin-api/index.ts';
import { raceAbort } from './abort.ts';
import { ProfileCredential } from './credential.ts';
import { mapAzureError } from './errors.ts';
import { canonicalizeAzureRef } from './locator.ts';
import { createHttpsAgent } from './network.ts';
import type { AzureKvProfile } from './profile.ts';
import { normalizeVault, scopeOfVault } from './vault.ts';

/**
 * The `azure-kv` client of one profile: one Entra ID credential and one SecretClient per vault
 * URL, built on first use and kept (the challenge state and token cache live in them).
 */
export class AzureKeyVaultStore implements SecretStoreClient {
  readonly #profile: AzureKvProfile;
  readonly #deps: SecretStoreDeps;
  readonly #logger: Logger;
  readonly #lifetime = new AbortController();
  readonly #clients = new Map<string, SecretClient>();
  readonly #credential: ProfileCredential;
  #agent: Agent | undefined;

  constructor(profile: AzureKvProfile, deps: SecretStoreDeps) {
    this.#profile = profile;
    this.#deps = deps;
    this.#logger = deps.logger.child({ store: 'azure-kv', profile: deps.profileName });
    this.#credential = new ProfileCredential(
      profile,
      deps,
      () => this.#httpsAgent(),
      this.#lifetime.signal,
    );
  }

  canonicalize(ref: SecretRef): CanonicalSecretRef {
    return canonicalizeAzureRef(ref, this.#profile);
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
      const client = this.#client(ref.details['vaultUrl'] ?? '');
      const secret = await raceAbort(
        client.getSecret(ref.details['secretName'] ?? '', {
          version: ref.details['version'],
          abortSignal: signal,
          requestOptions: { timeout: this.#profile.requestTimeoutMs },
        }),
        signal,
      );
      if (secret.value === undefined) {
        throw new PerimeterError(
          'SECRET_NOT_FOUND',
          `Azure Key Vault (profile ${this.#deps.profileName}) for ${ref.locator}: the secret has no value.`,
          {
            context: { store: 'azure-kv', profile: this.#deps.profileName, locator: ref.locator },
          },
        );
      }
      log('ok');
      // The value is text; binary content is stored base64 (reference §2.5): decode=base64 applies.
      return { value: Buffer.from(secret.value, 'utf8'), versionId: secret.properties.version };
    } catch (error) {
      if (signal.aborted) {
        log('aborted');
        throw signal.reason;
      }
      const mapped = mapAzureError(error, {
        profile: this.#deps.profileName,
        locator: ref.locator,
      });
      log(mapped.code);
      throw mapped;
    }
  }

  /**
   * Readiness: obtains a token for the first allowed vault's resource. It reads no secret: a
   * probe read would need a secret to read and would fill the vault's audit log.
   */
  async probe(options: { readonly signal: AbortSignal }): Promise<void> {
    const { signal } = options;
    const host = normalizeVault(this.#profile.allowedVaults[0] ?? '') ?? '';
    try {
      this.#assertOpen();
      await raceAbort(
        this.#credential.getToken(scopeOfVault(host), { abortSignal: signal }),
        signal,
      );
    } catch (error) {
      if (signal.aborted) {
        throw signal.reason;
      }
      throw mapAzureError(error, { profile: this.#deps.profileName, locator: 'probe' });
    }
  }

  close(): Promise<void> {
    this.#lifetime.abort(new PerimeterError('RUN_ABORTED', 'The azure-kv store is closing'));
    this.#clients.clear();
    this.#agent?.destroy();
    this.#agent = undefined;
    return Promise.resolve();
  }

  #assertOpen(): void {
    if (this.#lifetime.signal.aborted) {
      throw new PerimeterError(
        'SECRET_UNAVAILABLE',
        `The azure-kv profile ${this.#deps.profileName} is closed.`,
        {
          retryable: false,
          context: { store: 'azure-kv', profile: this.#deps.profileName },
        },
      );
    }
  }

  #httpsAgent(): Agent {
    this.#agent ??= createHttpsAgent(
      this.#deps.network,
      this.#profile.caFile,
      this.#deps.profileName,
    );
    return this.#agent;
  }

  #client(vaultUrl: string): SecretClient {
    let client = this.#clients.get(vaultUrl);
    if (client === undefined) {
      client = new SecretClient(vaultUrl, this.#credential, {
        agent: this.#httpsAgent(),
        disableChallengeResourceVerification: this.#profile.disableChallengeResourceVerification,
        retryOptions: { maxRetries: this.#profile.maxRetries },
      });
      this.#clients.set(vaultUrl, client);
    }
    return client;
  }
}

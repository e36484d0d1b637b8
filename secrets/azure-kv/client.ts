import type { Agent } from 'node:https';
import { SecretClient } from '@azure/keyvault-secrets';
import { PerimeterError, createStoreAgent, readCaFile } from '../../agent/plugin-api/index.ts';
import type {
  CanonicalSecretRef,
  FetchedSecret,
  SecretStoreBackend,
  SecretStoreDeps,
} from '../../agent/plugin-api/index.ts';
import { ProfileCredential } from './credential.ts';
import type { AzureKvProfile } from './profile.ts';
import { normalizeVault, scopeOfVault } from './vault.ts';

/**
 * The SDK side of one `azure-kv` profile: one Entra ID credential and one SecretClient per vault
 * URL, built on first use and kept (the challenge state and token cache live in them). They all
 * share the profile's HTTPS agent; giving the Azure pipeline an agent of our own also bypasses
 * its proxy policy, which would drop custom CAs when a proxy is set.
 */
class AzureBackend implements SecretStoreBackend {
  readonly #profile: AzureKvProfile;
  readonly #agent: Agent;
  readonly #credential: ProfileCredential;
  readonly #clients = new Map<string, SecretClient>();

  constructor(profile: AzureKvProfile, agent: Agent, credential: ProfileCredential) {
    this.#profile = profile;
    this.#agent = agent;
    this.#credential = credential;
  }

  async read(ref: CanonicalSecretRef, signal: AbortSignal): Promise<FetchedSecret> {
    const secret = await this.#client(ref.details['vaultUrl'] ?? '').getSecret(
      ref.details['secretName'] ?? '',
      {
        version: ref.details['version'],
        abortSignal: signal,
        requestOptions: { timeout: this.#profile.requestTimeoutMs },
      },
    );
    if (secret.value === undefined) {
      throw new PerimeterError(
        'SECRET_NOT_FOUND',
        `The Key Vault secret ${ref.locator} has no value.`,
        {
          context: { store: 'azure-kv', locator: ref.locator },
        },
      );
    }
    // The value is text; binary content is stored base64 (reference §2.5): decode=base64 applies.
    return { value: Buffer.from(secret.value, 'utf8'), versionId: secret.properties.version };
  }

  /**
   * Readiness: obtains a token for the first allowed vault's resource. It reads no secret: a
   * probe read would need a secret to read and would fill the vault's audit log.
   */
  async probe(signal: AbortSignal): Promise<void> {
    const host = normalizeVault(this.#profile.allowedVaults[0] ?? '') ?? '';
    await this.#credential.getToken(scopeOfVault(host), { abortSignal: signal });
  }

  close(): Promise<void> {
    this.#clients.clear();
    this.#agent.destroy();
    return Promise.resolve();
  }

  #client(vaultUrl: string): SecretClient {
    let client = this.#clients.get(vaultUrl);
    if (client === undefined) {
      client = new SecretClient(vaultUrl, this.#credential, {
        agent: this.#agent,
        disableChallengeResourceVerification: this.#profile.disableChallengeResourceVerification,
        retryOptions: { maxRetries: this.#profile.maxRetries },
      });
      this.#clients.set(vaultUrl, client);
    }
    return client;
  }
}

/**
 * Builds the SDK side of an `azure-kv` profile: reads the profile's `caFile` (CONFIG_INVALID
 * naming the key when it cannot) and makes no network call until the first read or probe.
 */
export async function createAzureBackend(
  profile: AzureKvProfile,
  deps: SecretStoreDeps,
  lifetime: AbortSignal,
): Promise<SecretStoreBackend> {
  const caPem = await readCaFile(profile.caFile, { scheme: 'azure-kv', profile: deps.profileName });
  const agent = createStoreAgent(deps.network, [caPem]);
  return new AzureBackend(profile, agent, new ProfileCredential(profile, deps, agent, lifetime));
}

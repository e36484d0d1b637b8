import type { Agent } from 'node:https';
import {
  ClientCertificateCredential,
  ClientSecretCredential,
  ManagedIdentityCredential,
  WorkloadIdentityCredential,
} from '@azure/identity';
import type { AccessToken, GetTokenOptions, TokenCredential } from '@azure/identity';
import { PerimeterError, raceAbort, resolveCredential } from '../../agent/plugin-api/index.ts';
import type { SecretStoreDeps } from '../../agent/plugin-api/index.ts';
import { isCredentialRejection } from './errors.ts';
import type { AzureKvProfile } from './profile.ts';

type AbortSignalLike = NonNullable<GetTokenOptions['abortSignal']>;

type WorkloadIdentityAuth = Extract<AzureKvProfile['auth'], { type: 'workloadIdentity' }>;

interface WorkloadIdentitySettings {
  readonly tenantId: string;
  readonly clientId: string;
  readonly tokenFilePath: string;
}

/**
 * The Entra ID credential of one profile, behind a TokenCredential that the SecretClients hold
 * from the start. The SDK credential is built on first use, after resolving the references it
 * needs (client secret, certificate), and kept: MSAL caches tokens per credential instance
 * (reference §2.5). After Entra rejects the credential it is dropped, so the next read resolves
 * the references again and picks up a rotated secret. Every token obtained is registered with
 * the log redactor.
 */
export class ProfileCredential implements TokenCredential {
  readonly #profile: AzureKvProfile;
  readonly #deps: SecretStoreDeps;
  readonly #agent: Agent;
  readonly #lifetime: AbortSignal;
  #credential: Promise<TokenCredential> | undefined;

  constructor(profile: AzureKvProfile, deps: SecretStoreDeps, agent: Agent, lifetime: AbortSignal) {
    this.#profile = profile;
    this.#deps = deps;
    this.#agent = agent;
    this.#lifetime = lifetime;
  }

  async getToken(
    scopes: string | string[],
    options?: GetTokenOptions,
  ): Promise<AccessToken | null> {
    const pending = this.#current();
    const credential = await raceAbort(pending, toAbortSignal(options?.abortSignal));
    try {
      const token = await credential.getToken(scopes, options);
      if (token !== null) {
        this.#deps.redact(token.token);
      }
      return token;
    } catch (error) {
      if (isCredentialRejection(error)) {
        this.#forget(pending);
      }
      throw error;
    }
  }

  #current(): Promise<TokenCredential> {
    if (this.#credential === undefined) {
      const pending = this.#build();
      this.#credential = pending;
      // A failed build (a reference that does not resolve) is retried by the next read.
      pending.catch(() => {
        this.#forget(pending);
      });
    }
    return this.#credential;
  }

  #forget(credential: Promise<TokenCredential>): void {
    if (this.#credential === credential) {
      this.#credential = undefined;
    }
  }

  async #build(): Promise<TokenCredential> {
    const profile = this.#profile;
    const auth = profile.auth;
    const options = {
      authorityHost: profile.authorityHost ?? this.#deps.environment['AZURE_AUTHORITY_HOST'],
      disableInstanceDiscovery: profile.disableInstanceDiscovery,
      additionallyAllowedTenants: profile.additionallyAllowedTenants,
      agent: this.#agent,
      retryOptions: { maxRetries: profile.maxRetries },
    };
    switch (auth.type) {
      case 'workloadIdentity':
        return new WorkloadIdentityCredential({ ...options, ...this.#workloadIdentity(auth) });
      case 'managedIdentity': {
        // The identity endpoint is local plain http (IMDS, App Service): no proxy, no custom CA,
        // and an https agent would break it.
        const local = { retryOptions: options.retryOptions };
        return auth.resourceId === undefined
          ? new ManagedIdentityCredential({ ...local, clientId: auth.clientId })
          : new ManagedIdentityCredential({ ...local, resourceId: auth.resourceId });
      }
      case 'clientSecret': {
        const secret = await this.#resolve('clientSecret', auth.clientSecret);
        return new ClientSecretCredential(auth.tenantId, auth.clientId, secret, options);
      }
      case 'clientCertificate': {
        const certificate = await this.#resolve('certificate', auth.certificate);
        return new ClientCertificateCredential(
          auth.tenantId,
          auth.clientId,
          { certificate },
          { ...options, sendCertificateChain: auth.sendCertificateChain },
        );
      }
    }
  }

  /**
   * The workload identity settings: the profile's, else what the AKS webhook put in the agent's
   * environment. Missing ones fail here with what to do, rather than deep in the SDK.
   */
  #workloadIdentity(auth: WorkloadIdentityAuth): WorkloadIdentitySettings {
    const environment = this.#deps.environment;
    const settings = {
      tenantId: auth.tenantId ?? environment['AZURE_TENANT_ID'],
      clientId: auth.clientId ?? environment['AZURE_CLIENT_ID'],
      tokenFilePath: auth.tokenFilePath ?? environment['AZURE_FEDERATED_TOKEN_FILE'],
    };
    const { tenantId, clientId, tokenFilePath } = settings;
    if (tenantId !== undefined && clientId !== undefined && tokenFilePath !== undefined) {
      return { tenantId, clientId, tokenFilePath };
    }
    const missing = Object.entries(settings)
      .filter(([, value]) => value === undefined)
      .map(([key]) => `auth.${key}`);
    const profile = this.#deps.profileName;
    throw new PerimeterError(
      'SECRET_ACCESS_DENIED',
      `The azure-kv profile ${profile} has no workload identity: ${missing.join(', ')} unset and not in the environment (AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_FEDERATED_TOKEN_FILE). Label the pod azure.workload.identity/use: "true" and annotate its service account with azure.workload.identity/client-id, or set them in the profile.`,
      { context: { store: 'azure-kv', profile, reason: 'credential-unavailable', keys: missing } },
    );
  }

  #resolve(key: string, ref: string): Promise<string> {
    return resolveCredential(this.#deps, { scheme: 'azure-kv', key, ref }, this.#lifetime);
  }
}

/** The Azure SDK hands credentials an AbortSignalLike; our waits take a real AbortSignal. */
function toAbortSignal(signal: AbortSignalLike | undefined): AbortSignal {
  if (signal === undefined) {
    return new AbortController().signal;
  }
  if (signal instanceof AbortSignal) {
    return signal;
  }
  const controller = new AbortController();
  if (signal.aborted) {
    controller.abort();
  } else {
    signal.addEventListener('abort', () => {
      controller.abort();
    });
  }
  return controller.signal;
}

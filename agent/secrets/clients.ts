import { AsyncLocalStorage } from 'node:async_hooks';
import type { Redactor } from '../logging/redactor.ts';
import { PerimeterError, coerceError, waitAtMost } from '../plugin-api/index.ts';
import type {
  Logger,
  SecretStoreClient,
  SecretStoreDeps,
  SecretStoreNetwork,
  SecretValue,
} from '../plugin-api/index.ts';
import type { ResolvedProfile } from './profiles.ts';

/** Time a store gets to close (revoke its login token) at shutdown. */
const CLOSE_TIMEOUT_MS = 5_000;

/** What the client registry needs from the resolver. */
export interface StoreClientsOptions {
  readonly network: SecretStoreNetwork;
  readonly redactor: Redactor;
  readonly logger: Logger;
  readonly environment: Readonly<Record<string, string | undefined>> | undefined;
  /** The profile a reference would be read through (parses it; throws SECRET_INVALID_REF). */
  profileOf(ref: string): string;
  /** Resolves a reference on behalf of a store whose credentials are references. */
  resolve(ref: string, signal: AbortSignal): Promise<SecretValue>;
}

/**
 * One store client per profile, created on first use and reused until `closeAll`. Store calls
 * run inside {@link StoreClients.within}, which records the chain of profiles being read through,
 * so a profile whose credentials lead back to itself fails at once instead of deadlocking.
 */
export class StoreClients {
  readonly #options: StoreClientsOptions;
  readonly #clients = new Map<string, SecretStoreClient>();
  readonly #chain = new AsyncLocalStorage<readonly string[]>();

  constructor(options: StoreClientsOptions) {
    this.#options = options;
  }

  /** The client of `profile`, built now if this is its first use (no network call). */
  get(profile: ResolvedProfile): SecretStoreClient {
    let client = this.#clients.get(profile.name);
    if (client === undefined) {
      client = profile.store.create(profile.settings, this.#deps(profile.name));
      this.#clients.set(profile.name, client);
    }
    return client;
  }

  /** Runs a call of `profile`'s store. */
  within<T>(profile: string, call: () => Promise<T>): Promise<T> {
    return this.#chain.run([...(this.#chain.getStore() ?? []), profile], call);
  }

  /** Closes every client, each within a bounded time; failures are logged, never thrown. */
  async closeAll(): Promise<void> {
    const clients = [...this.#clients];
    this.#clients.clear();
    await Promise.all(clients.map(([name, client]) => this.#close(name, client)));
  }

  async #close(name: string, client: SecretStoreClient): Promise<void> {
    try {
      if ((await waitAtMost(client.close(), CLOSE_TIMEOUT_MS)).timedOut) {
        this.#options.logger.warn(
          { profile: name, timeoutMs: CLOSE_TIMEOUT_MS },
          'secret store close timed out',
        );
      }
    } catch (error) {
      this.#options.logger.warn(
        { profile: name, err: coerceError(error) },
        'secret store close failed',
      );
    }
  }

  #deps(profileName: string): SecretStoreDeps {
    const { network, redactor, logger, environment } = this.#options;
    return {
      profileName,
      logger: logger.child({ secretStore: profileName }),
      network,
      environment: environment ?? {},
      // A login token outlives the run that first used the store: held for the agent's lifetime.
      redact: (value) => {
        redactor.addLasting(value);
      },
      resolve: (ref, { signal }) => {
        const chain = [...(this.#chain.getStore() ?? []), profileName];
        const target = this.#options.profileOf(ref);
        if (chain.includes(target)) {
          return Promise.reject(
            new PerimeterError(
              'SECRET_INVALID_REF',
              `A credential of secretStores.${profileName} is read through profile "${target}", which leads back to ${profileName}. Point it at another profile`,
              { context: { ref, profile: profileName } },
            ),
          );
        }
        return this.#options.resolve(ref, signal);
      },
    };
  }
}

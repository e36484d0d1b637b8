import type { ClosableHttpClient, DestinationPolicy, ErrorDomain } from '../http/types.ts';
import type { SecretResolver } from '../secrets/resolver.ts';
import type { CatalogSettings } from '../sink/settings.ts';
import { checkCatalogToken } from '../sink/catalog-auth.ts';
import { catalogDestinationPolicy } from '../sink/catalog-sink.ts';
import { CachedProbe } from './probe.ts';

/** What the probes reach out through: the agent's HTTP clients and its secret resolver. */
export interface ProbeReach {
  readonly resolver: Pick<SecretResolver, 'listProfiles' | 'probe' | 'resolve'>;
  httpClient(
    policy: DestinationPolicy,
    options: { readonly errorDomain: ErrorDomain },
  ): ClosableHttpClient;
}

/** The background probes of /readyz: the catalog, and each secret store profile. */
export interface DependencyProbes {
  readonly probes: readonly CachedProbe[];
  /** Stops the loops and releases the probe's HTTP client. Idempotent. */
  close(): Promise<void>;
}

/**
 * Starts the cached probes. The catalog probe resolves `catalog.token` and makes the protocol's
 * read-only `GET /v1/whoami` through the agent's HTTP client (proxy, CA, policy): a 401/403 is a
 * refusal naming `catalog.token`, which makes the agent not ready; any other answer counts as
 * reachable (the point is the path and the token, not the route). Each store profile is probed with its own cheap authenticated
 * call (`resolver.probe`), so a broken vault identity shows before a run needs it.
 */
export function startDependencyProbes(options: {
  readonly runtime: ProbeReach;
  /** The catalog, when this process pushes to it (worker role). */
  readonly catalog: CatalogSettings | undefined;
  readonly intervalMs: number;
}): DependencyProbes {
  const { runtime, catalog, intervalMs } = options;
  const controller = new AbortController();
  const probes: CachedProbe[] = [];
  const http =
    catalog === undefined
      ? undefined
      : runtime.httpClient(catalogDestinationPolicy(catalog), { errorDomain: 'sink' });
  if (http !== undefined && catalog !== undefined) {
    probes.push(
      new CachedProbe(
        'catalog',
        async (signal) => {
          const token =
            catalog.token === undefined
              ? undefined
              : await runtime.resolver.resolve(catalog.token, { signal });
          await checkCatalogToken({ http, settings: catalog, token, signal });
        },
        { intervalMs },
      ),
    );
  }
  for (const profile of runtime.resolver.listProfiles()) {
    probes.push(
      new CachedProbe(
        `secretStore:${profile.name}`,
        (signal) => runtime.resolver.probe(profile.name, { signal }),
        { intervalMs },
      ),
    );
  }
  const loops = probes.map((probe) => probe.run(controller.signal));
  let closing: Promise<void> | undefined;
  return {
    probes,
    close: () => {
      closing ??= (async () => {
        controller.abort();
        await Promise.allSettled(loops);
        await http?.close();
      })();
      return closing;
    },
  };
}

import { readFile } from 'node:fs/promises';
import { Agent } from 'node:https';
import { getCACertificates } from 'node:tls';
import { PerimeterError } from './errors.ts';
import type { SecretStoreNetwork } from './secrets.ts';

/**
 * The CA certificates (PEM) a store client trusts: Node's default set (bundled roots,
 * NODE_EXTRA_CA_CERTS and, with --use-system-ca, the system store) plus `extraPems`. Undefined
 * when there is no extra one, so that clients keep their own default. A `ca` option replaces the
 * default set, which is why it is passed along rather than the extras alone. `defaultPems`
 * stands in for Node's default set in tests.
 */
export function trustedCaPems(
  extraPems: readonly (string | undefined)[],
  defaultPems: readonly string[] = getCACertificates('default'),
): string[] | undefined {
  const extra = extraPems.filter((pem): pem is string => pem !== undefined && pem !== '');
  return extra.length === 0 ? undefined : [...defaultPems, ...extra];
}

/**
 * The HTTPS agent of one store profile: kept-alive sockets, certificate checks always on, the
 * agent's extra CA (and the profile's own, `extraCaPems`) on top of the default roots, and the
 * agent's proxy with its no-proxy list through Node 24's `proxyEnv`. The proxy settings are
 * always given explicitly, so nothing is taken from the process environment behind the config's
 * back. The cloud SDKs read neither HTTPS_PROXY nor a CA bundle consistently (AWS reads neither,
 * Azure drops custom CAs behind a proxy, node-vault honours VAULT_SKIP_VERIFY): each store hands
 * this agent to its SDK instead.
 */
export function createStoreAgent(
  network: SecretStoreNetwork,
  extraCaPems: readonly (string | undefined)[] = [],
): Agent {
  const ca = trustedCaPems([network.extraCaPem, ...extraCaPems]);
  return new Agent({
    keepAlive: true,
    rejectUnauthorized: true,
    ...(ca === undefined ? {} : { ca }),
    proxyEnv: { HTTPS_PROXY: network.httpsProxy, NO_PROXY: network.noProxy },
  });
}

/**
 * Reads a profile's `caFile` (a PEM bundle mounted from a ConfigMap or Secret); undefined when
 * the profile has none. An unreadable file is CONFIG_INVALID naming the key, so the operator
 * knows which mount is missing.
 */
export async function readCaFile(
  path: string | undefined,
  scope: { readonly scheme: string; readonly profile: string },
): Promise<string | undefined> {
  if (path === undefined) {
    return undefined;
  }
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    const key = `secretStores.${scope.profile}.caFile`;
    throw new PerimeterError(
      'CONFIG_INVALID',
      `${key}: cannot read ${path}. Mount the CA bundle there or fix the path.`,
      { cause: error, context: { store: scope.scheme, profile: scope.profile, key } },
    );
  }
}

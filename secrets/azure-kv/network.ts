import { readFileSync } from 'node:fs';
import { Agent } from 'node:https';
import { getCACertificates } from 'node:tls';
import { PerimeterError } from '../../agent/plugin-api/index.ts';
import type { SecretStoreNetwork } from '../../agent/plugin-api/index.ts';

/**
 * The HTTPS agent shared by the profile's SecretClients and its Entra ID credential: extra CAs
 * (the agent's and the profile's `caFile`) on top of the default roots, and the agent's proxy
 * with its no-proxy list (Node 24's `proxyEnv`). Giving the Azure pipeline an agent of our own
 * also bypasses its proxy policy, which would drop custom CAs when a proxy is set.
 */
export function createHttpsAgent(
  network: SecretStoreNetwork,
  caFile: string | undefined,
  profileName: string,
): Agent {
  const extra = [
    network.extraCaPem,
    caFile === undefined ? undefined : readCaFile(caFile, profileName),
  ].filter((pem): pem is string => pem !== undefined);
  return new Agent({
    keepAlive: true,
    // `ca` replaces the default roots, so the default set (bundled, NODE_EXTRA_CA_CERTS and,
    // with --use-system-ca, the system store) is passed along.
    ca: extra.length === 0 ? undefined : [...getCACertificates('default'), ...extra],
    proxyEnv:
      network.httpsProxy === undefined
        ? undefined
        : { HTTPS_PROXY: network.httpsProxy, NO_PROXY: network.noProxy },
  });
}

function readCaFile(path: string, profileName: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new PerimeterError(
      'CONFIG_INVALID',
      `secretStores.${profileName}.caFile: cannot read ${path}. Mount the CA bundle there or fix the path.`,
      {
        cause: error,
        context: {
          store: 'azure-kv',
          profile: profileName,
          key: `secretStores.${profileName}.caFile`,
        },
      },
    );
  }
}

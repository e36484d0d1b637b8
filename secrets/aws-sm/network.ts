import { Agent } from 'node:https';
import { getCACertificates } from 'node:tls';
import type { SecretStoreNetwork } from '../../agent/plugin-api/index.ts';

/**
 * The HTTPS agent of one profile: extra CAs on top of the default roots, and the agent's proxy
 * with its no-proxy list (Node 24's `proxyEnv`). The AWS SDK reads neither HTTPS_PROXY nor
 * AWS_CA_BUNDLE (reference §1.5), so both must come through the agent. The STS client of the
 * web-identity provider inherits the same request handler.
 */
export function createHttpsAgent(network: SecretStoreNetwork): Agent {
  return new Agent({
    keepAlive: true,
    // `ca` replaces the default roots, so the default set (bundled, NODE_EXTRA_CA_CERTS and,
    // with --use-system-ca, the system store) is passed along.
    ca:
      network.extraCaPem === undefined
        ? undefined
        : [...getCACertificates('default'), network.extraCaPem],
    proxyEnv:
      network.httpsProxy === undefined
        ? undefined
        : { HTTPS_PROXY: network.httpsProxy, NO_PROXY: network.noProxy },
  });
}

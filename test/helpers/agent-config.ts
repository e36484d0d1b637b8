import type { AgentConfig } from '../../agent/config/schema.ts';
import { checkConfig, loadConfig } from '../../agent/config/load.ts';
import { isHostAllowed } from '../../agent/http/policy.ts';
import { Redactor } from '../../agent/logging/redactor.ts';
import { permittedHosts } from '../../agent/run/prepare.ts';
import { createSecretResolver } from '../../agent/secrets/resolver.ts';
import { SecretsSettingsSchema } from '../../agent/secrets/settings.ts';
import { connectors } from '../../connectors/index.ts';
import { secretStores } from '../../secrets/index.ts';
import { captureLogs } from './capture-logs.ts';

/**
 * A config file as the agent itself takes it at start: parsed and validated by the agent's
 * loader, then every secret reference checked against its profile's allowlist and every
 * connection's declared endpoints against its connector's permitted hosts (no network). Throws
 * CONFIG_INVALID with every problem.
 */
export function loadConfigAsAgent(path: string, text: string): AgentConfig {
  const registry = { connectors, stores: secretStores };
  const config = loadConfig({ env: {}, file: { path, text } }, registry);
  const resolver = createSecretResolver({
    stores: secretStores,
    profiles: config.secretStores,
    settings: SecretsSettingsSchema.parse({}),
    network: { extraCaPem: undefined, httpsProxy: undefined, noProxy: undefined },
    redactor: new Redactor(),
    logger: captureLogs().logger,
    environment: {},
  });
  checkConfig(config, registry, {
    checkRef: (ref) => {
      resolver.check(ref);
    },
    hostCheckerFor: (connector) => (url) => isHostAllowed(permittedHosts(connector, config), url),
  });
  return config;
}

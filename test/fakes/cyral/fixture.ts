import type { ConnectorFixture, ConnectorHarness } from '../../conformance/connector-fixture.ts';
import { harnessSwitches } from '../../conformance/connector-fixture.ts';
import { connector } from '../../../connectors/cyral/index.ts';
import { startCyralSimulator } from './simulator.ts';

/**
 * Conformance fixture of the Cyral connector: a small control plane (3 sidecars, 6
 * repositories, one unbound and one stale policy id), tokens with a refresh token, and the canary
 * as the valid client secret.
 */
export const cyralConnectorFixture: ConnectorFixture = {
  connector,
  async start({ canary }): Promise<ConnectorHarness> {
    const simulator = await startCyralSimulator({
      clientSecret: canary,
      size: { sidecars: 3, repos: 6 },
      tokens: { issueRefreshTokens: true },
    });
    return {
      config: {
        baseUrl: simulator.url,
        tenant: 'conformance',
        bindingsPageSize: 1,
        retry: { baseDelayMs: 5, maxDelayMs: 20 },
        credentials: { clientId: simulator.clientId, clientSecret: canary },
      },
      params: {},
      allowedHosts: [simulator.host],
      ...harnessSwitches(simulator),
      rejectCredentials: () => {
        // A rotated secret: token requests fail and the tokens already issued stop working.
        simulator.rejectCredentials();
        simulator.expireTokens();
      },
    };
  },
};

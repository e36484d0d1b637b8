import type { ConnectorFixture, ConnectorHarness } from '../../conformance/connector-fixture.ts';
import { harnessSwitches } from '../../conformance/connector-fixture.ts';
import { connector } from '../../../connectors/cyera/index.ts';
import { startCyeraSimulator } from './simulator.ts';

/**
 * Conformance fixture of the Cyera connector: a simulated tenant of 3 datastores, checkpoints
 * inside and after each, and the canary as the valid secret.
 */
export const cyeraConnectorFixture: ConnectorFixture = {
  connector,
  async start({ canary }): Promise<ConnectorHarness> {
    const simulator = await startCyeraSimulator({
      secret: canary,
      size: { datastores: 3, tablesPerSchema: 4, columnsPerTable: 5 },
    });
    return {
      config: {
        baseUrl: simulator.url,
        tenant: 'conformance',
        // Small, so that checkpoints inside a datastore are resumed by the suite too.
        checkpointEveryAssets: 40,
        credentials: { clientId: simulator.clientId, secret: canary },
      },
      params: {},
      allowedHosts: [simulator.host],
      ...harnessSwitches(simulator),
      rejectCredentials: () => {
        // A rotated key: logins fail and the tokens already issued stop working.
        simulator.rejectCredentials();
        simulator.expireTokens();
      },
    };
  },
};

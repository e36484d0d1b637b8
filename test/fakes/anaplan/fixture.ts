import type { ConnectorFixture, ConnectorHarness } from '../../conformance/connector-fixture.ts';
import { harnessSwitches } from '../../conformance/connector-fixture.ts';
import { connector } from '../../../connectors/anaplan/index.ts';
import { makeUserCertificate } from './pki.ts';
import { startAnaplanSimulator } from './simulator.ts';
import type { AnaplanSimulator } from './simulator.ts';

/** A small tenant: 2 workspaces of 2 models, one archived and one the user cannot open. */
const SIZE = {
  workspaces: 2,
  modelsPerWorkspace: 2,
  listsPerModel: 3,
  modulesPerModel: 2,
  lineItemsPerModule: 3,
  archived: 1,
  forbidden: 1,
};

/** Conformance with Basic auth: the canary is the user's password. */
export const anaplanBasicConnectorFixture: ConnectorFixture = {
  connector,
  label: 'anaplan, Basic auth',
  async start({ canary }): Promise<ConnectorHarness> {
    const user = 'conformance@example.com';
    const simulator = await startAnaplanSimulator({ size: SIZE, users: { [user]: canary } });
    return harnessOf(simulator, { authMode: 'basic' }, { user, password: canary });
  },
};

/** Conformance with CA-certificate auth (v2): the canary is the private key's passphrase. */
export const anaplanCertificateConnectorFixture: ConnectorFixture = {
  connector,
  label: 'anaplan, CA certificate auth',
  async start({ canary }): Promise<ConnectorHarness> {
    const certificate = makeUserCertificate({ passphrase: canary });
    const simulator = await startAnaplanSimulator({
      size: SIZE,
      certificates: [certificate.certificatePem],
    });
    return harnessOf(
      simulator,
      { authMode: 'certificate', encodedDataFormat: 'v2' },
      {
        certificate: certificate.certificatePem,
        privateKey: certificate.privateKeyPem,
        passphrase: canary,
      },
    );
  },
};

function harnessOf(
  simulator: AnaplanSimulator,
  auth: Record<string, unknown>,
  credentials: Record<string, string>,
): ConnectorHarness {
  return {
    config: {
      authUrl: simulator.authUrl,
      apiUrl: simulator.apiUrl,
      tenant: 'conformance',
      ...auth,
      credentials,
    },
    params: {},
    allowedHosts: simulator.hosts,
    ...harnessSwitches(simulator),
  };
}

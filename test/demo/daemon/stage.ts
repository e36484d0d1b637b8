// The daemon demo's stage: a simulator of every shipped connector, a catalog receiver and a
// control plane with an Ed25519 key, all on loopback; the secrets as files and environment
// variables; and the agent's config (three connections, Redis under a prefix of the run's own,
// the control plane's public key pinned).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeUserCertificate } from '../../fakes/anaplan/pki.ts';
import { startAnaplanSimulator } from '../../fakes/anaplan/simulator.ts';
import type { AnaplanSimulator } from '../../fakes/anaplan/simulator.ts';
import { startCatalogReceiver } from '../../fakes/catalog-receiver.ts';
import type { CatalogReceiver } from '../../fakes/catalog-receiver.ts';
import { startFakeControlPlane } from '../../fakes/control-plane/server.ts';
import type { FakeControlPlane } from '../../fakes/control-plane/server.ts';
import { startCyeraSimulator } from '../../fakes/cyera/simulator.ts';
import type { CyeraSimulator } from '../../fakes/cyera/simulator.ts';
import { startCyralSimulator } from '../../fakes/cyral/simulator.ts';
import type { CyralSimulator } from '../../fakes/cyral/simulator.ts';
import { makeCanary } from '../../helpers/canary.ts';
import type { CyeraTenantSize } from '../../fakes/cyera/tenant.ts';
import type { CyralTenantSize } from '../../fakes/cyral/tenant.ts';
import type { AnaplanTenantSize } from '../../fakes/anaplan/tenant.ts';

export const AGENT_ID = 'demo-agent';

/** Everything the daemon demo runs against. */
export interface Stage {
  readonly dir: string;
  readonly configPath: string;
  /** The agent's environment: the secrets it reads by `env://` reference. */
  readonly env: Record<string, string>;
  readonly cyera: CyeraSimulator;
  readonly cyral: CyralSimulator;
  readonly anaplan: AnaplanSimulator;
  readonly catalog: CatalogReceiver;
  readonly controlPlane: FakeControlPlane;
  /** Every credential of the demo by name; at the end none may appear in anything captured. */
  canaries(): Record<string, readonly string[]>;
  close(): Promise<void>;
}

/** How large each simulated tenant is (the demo's sizes by default). */
export interface StageSizes {
  readonly cyera: Partial<CyeraTenantSize>;
  readonly cyral: Partial<CyralTenantSize>;
  readonly anaplan: Partial<AnaplanTenantSize>;
}

const DEMO_SIZES: StageSizes = {
  cyera: {
    datastores: 3,
    databasesPerDatastore: 2,
    schemasPerDatabase: 2,
    tablesPerSchema: 10,
    columnsPerTable: 12,
    issuesPerDatastore: 40,
    identitiesPerDatastore: 25,
  },
  cyral: { sidecars: 3, repos: 8 },
  anaplan: {
    workspaces: 1,
    modelsPerWorkspace: 3,
    modulesPerModel: 10,
    lineItemsPerModule: 100,
    archived: 1,
    // A model the demo's user may not open: the run ends partial, naming it.
    forbidden: 1,
  },
};

/**
 * Starts the simulators, the catalog receiver and the control plane; writes secrets and config.
 * `sizes` and `configure` (which may change the config before it is written) let the load run
 * (test/proof/load) use the same stage.
 */
export async function setStage(options: {
  readonly dir: string;
  readonly redisUrl: string;
  readonly prefix: string;
  readonly sizes?: StageSizes;
  readonly configure?: (config: Record<string, unknown>) => void;
}): Promise<Stage> {
  const { dir } = options;
  const sizes = options.sizes ?? DEMO_SIZES;
  const passphrase = makeCanary('anaplan-passphrase');
  const certificate = makeUserCertificate({ passphrase });
  const catalogToken = makeCanary('catalog-token');
  const controlPlaneToken = makeCanary('agent-token');
  const [cyera, cyral, anaplan, catalog, controlPlane] = await Promise.all([
    startCyeraSimulator({ size: sizes.cyera }),
    startCyralSimulator({ size: sizes.cyral, tokens: { issueRefreshTokens: true } }),
    startAnaplanSimulator({ certificates: [certificate.certificatePem], size: sizes.anaplan }),
    startCatalogReceiver({ token: catalogToken }),
    startFakeControlPlane({ token: controlPlaneToken, leaseMs: 10_000 }),
  ]);
  const secrets = join(dir, 'secrets');
  mkdirSync(secrets);
  const files: Record<string, string> = {
    'cyera-secret': `${cyera.secret}\n`,
    'cyral-client-secret': `${cyral.clientSecret}\n`,
    'anaplan-certificate.pem': certificate.certificatePem,
    'anaplan-private-key.pem': certificate.privateKeyPem,
    'catalog-token': `${catalogToken}\n`,
  };
  for (const [name, text] of Object.entries(files)) {
    writeFileSync(join(secrets, name), text, { mode: 0o600 });
  }
  const file = (name: string): string => `file://${join(secrets, name)}`;
  const config: Record<string, unknown> = {
    agent: { id: AGENT_ID, logLevel: 'info' },
    catalog: { url: catalog.url, token: file('catalog-token'), batchMaxAssets: 200 },
    redis: { url: options.redisUrl, prefix: options.prefix, connectTimeoutMs: 1_000 },
    queue: { concurrency: 3, leaseRetryMs: 300, shutdownGraceMs: 10_000 },
    health: { port: 0, host: '127.0.0.1', probeIntervalMs: 500 },
    controlPlane: {
      url: controlPlane.url,
      agentToken: 'env://DEMO_AGENT_TOKEN',
      publicKey: controlPlane.signer.publicKeyPem,
      pollWaitSeconds: 1,
      heartbeatIntervalSeconds: 2,
    },
    secretStores: {
      file: { type: 'file', allow: [`${secrets}/*`] },
      env: { type: 'env', allow: ['DEMO_*'] },
    },
    policy: {
      connectors: {
        cyera: { allowHosts: [cyera.host] },
        cyral: { allowHosts: [cyral.host] },
        anaplan: { allowHosts: [...anaplan.hosts] },
      },
    },
    connections: {
      cyera: {
        connector: 'cyera',
        baseUrl: cyera.url,
        credentials: { clientId: 'env://DEMO_CYERA_CLIENT_ID', secret: file('cyera-secret') },
      },
      cyral: {
        connector: 'cyral',
        baseUrl: cyral.url,
        credentials: {
          clientId: 'env://DEMO_CYRAL_CLIENT_ID',
          clientSecret: file('cyral-client-secret'),
        },
      },
      anaplan: {
        connector: 'anaplan',
        authUrl: anaplan.authUrl,
        apiUrl: anaplan.apiUrl,
        authMode: 'certificate',
        credentials: {
          certificate: file('anaplan-certificate.pem'),
          privateKey: file('anaplan-private-key.pem'),
          passphrase: 'env://DEMO_ANAPLAN_KEY_PASSPHRASE',
        },
      },
    },
  };
  options.configure?.(config);
  const configPath = join(dir, 'perimeter.yaml');
  // JSON is YAML; the file reads the same to `perimeter start`.
  writeFileSync(configPath, `${JSON.stringify(config, null, 2)}\n`);
  return {
    dir,
    configPath,
    env: {
      DEMO_AGENT_TOKEN: controlPlaneToken,
      DEMO_CYERA_CLIENT_ID: cyera.clientId,
      DEMO_CYRAL_CLIENT_ID: cyral.clientId,
      DEMO_ANAPLAN_KEY_PASSPHRASE: passphrase,
    },
    cyera,
    cyral,
    anaplan,
    catalog,
    controlPlane,
    canaries: () => ({
      'Cyera client secret': [cyera.secret],
      'Cyral client secret': [cyral.clientSecret],
      'Cyral issued tokens': cyral.issuedTokens(),
      'Cyral planted secrets': [cyral.tenant.planted],
      'Anaplan key passphrase': [passphrase],
      'catalog token': [catalogToken],
      'control-plane agent token': [controlPlaneToken],
    }),
    close: async () => {
      await Promise.all([
        cyera.close(),
        cyral.close(),
        anaplan.close(),
        catalog.close(),
        controlPlane.close(),
      ]);
    },
  };
}

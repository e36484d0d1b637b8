// The world the attack suite runs in: the agent as a child process on the shared Redis under a
// prefix of its own; a signing control plane and a catalog; a simulator of every connector; every
// secret store (file, env, and each cloud store, with each credential kind that holds a secret);
// a fixture source and a redirector on allowed hosts; and listeners on forbidden hosts that only
// count the connections they get. Every credential is a canary, for the leak scan.
import { writeFileSync, mkdirSync } from 'node:fs';
import { createServer } from 'node:http';
import type { Server as HttpServer } from 'node:http';
import { createServer as createTcpServer } from 'node:net';
import type { AddressInfo, Server as TcpServer } from 'node:net';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { parse as parseYaml } from 'yaml';
import { makeUserCertificate } from '../../fakes/anaplan/pki.ts';
import { startAnaplanSimulator } from '../../fakes/anaplan/simulator.ts';
import type { AnaplanSimulator } from '../../fakes/anaplan/simulator.ts';
import { CLIENT_ID, TENANT_ID, startAzureFakes } from '../../fakes/azure-kv/fakes.ts';
import type { AzureFakes } from '../../fakes/azure-kv/fakes.ts';
import { startCatalogReceiver } from '../../fakes/catalog-receiver.ts';
import type { CatalogReceiver } from '../../fakes/catalog-receiver.ts';
import { startFakeControlPlane } from '../../fakes/control-plane/server.ts';
import type { FakeControlPlane } from '../../fakes/control-plane/server.ts';
import { startCyeraSimulator } from '../../fakes/cyera/simulator.ts';
import type { CyeraSimulator } from '../../fakes/cyera/simulator.ts';
import { startCyralSimulator } from '../../fakes/cyral/simulator.ts';
import type { CyralSimulator } from '../../fakes/cyral/simulator.ts';
import { startFixtureSource } from '../../fakes/fixture/source.ts';
import type { FixtureSource } from '../../fakes/fixture/source.ts';
import { startGcpSmFake } from '../../fakes/gcp-sm/fake.ts';
import type { VaultFake } from '../../fakes/vault/fake.ts';
import { spawnAgent, stopAgent } from '../../e2e/support/agent.ts';
import type { AgentProcess } from '../../e2e/support/agent.ts';
import { makeCanary } from '../../helpers/canary.ts';
import { operatorStores } from '../../helpers/operator-stores.ts';
import type { OperatorStore } from '../../helpers/operator-stores.ts';
import { tempDir } from '../../helpers/temp-dir.ts';
import { REDIS_URL, deleteKeys, uniquePrefix } from '../../integration/support/redis.ts';

export const AGENT_ID = 'proof-attacks';

/** A host the agent must never reach: it accepts TCP connections and only counts them. */
export interface ForbiddenHost {
  readonly name: string;
  readonly url: string;
  connections(): number;
}

/** Everything the suite runs against and captures. */
export interface AttackWorld {
  readonly agent: AgentProcess;
  readonly redis: Redis;
  readonly prefix: string;
  readonly controlPlane: FakeControlPlane;
  readonly catalog: CatalogReceiver;
  /** The bearer token the catalog requires. */
  readonly catalogToken: string;
  /** The fixture source (connection `fx`, allowed), its secret `env://FIXTURE_SECRET`. */
  readonly source: FixtureSource;
  /** Connection `flood`: a fixture source that holds every data request for a minute. */
  readonly floodSource: FixtureSource;
  /** On an allowed host; answers every request with a redirect to `forbidden.redirectTarget`. */
  readonly redirectorUrl: string;
  readonly forbidden: { readonly exfil: ForbiddenHost; readonly redirectTarget: ForbiddenHost };
  readonly cyera: CyeraSimulator;
  readonly cyral: CyralSimulator;
  readonly anaplan: AnaplanSimulator;
  /** Connection ids of the fixture source read through each store, by store profile. */
  readonly storeConnections: Readonly<Record<string, string>>;
  /** Folders the agent writes: the review area and the ledger file's folder. */
  readonly outputDirs: readonly string[];
  /** The most runs the queue lets wait (`queue.maxWaitingRuns`). */
  readonly maxWaitingRuns: number;
  /** Every credential of every connector and store, by what it is. */
  canaries(): Record<string, readonly string[]>;
  close(): Promise<void>;
}

const document = (value: string): string => JSON.stringify({ secret: value });

/** Starts the world and the agent in it; `maxWaitingRuns` bounds the queue for the flood. */
export async function startAttackWorld(options: {
  readonly maxWaitingRuns: number;
}): Promise<AttackWorld> {
  const closers: (() => Promise<void>)[] = [];
  const dir = tempDir('proof-attacks', { lifetime: 'file' });
  const secrets = join(dir, 'secrets');
  const reviewDir = join(dir, 'review');
  const ledgerDir = join(dir, 'ledger');
  for (const folder of [secrets, reviewDir, ledgerDir]) {
    mkdirSync(folder);
  }
  const canary = {
    fixture: makeCanary('fixture-secret'),
    passphrase: makeCanary('anaplan-passphrase'),
    catalogToken: makeCanary('catalog-token'),
    agentToken: makeCanary('agent-token'),
    cyeraWrong: makeCanary('cyera-wrong-secret'),
    azureClientSecret: makeCanary('azure-client-secret'),
    vaultBadSecretId: makeCanary('vault-bad-secret-id'),
    store: Object.fromEntries(
      [...Object.keys(operatorStores), 'azure-secret', 'gcp-key', 'vault-token', 'file', 'env'].map(
        (name) => [name, makeCanary(`${name}-stored`)],
      ),
    ),
  };
  const certificate = makeUserCertificate({ passphrase: canary.passphrase });
  const [cyera, cyral, anaplan, catalog, controlPlane, source] = await Promise.all([
    startCyeraSimulator({
      size: {
        datastores: 2,
        databasesPerDatastore: 1,
        schemasPerDatabase: 1,
        tablesPerSchema: 3,
        columnsPerTable: 4,
        issuesPerDatastore: 5,
        identitiesPerDatastore: 5,
      },
    }),
    startCyralSimulator({ size: { sidecars: 1, repos: 3 }, tokens: { issueRefreshTokens: true } }),
    startAnaplanSimulator({
      certificates: [certificate.certificatePem],
      size: {
        workspaces: 1,
        modelsPerWorkspace: 1,
        modulesPerModel: 2,
        lineItemsPerModule: 5,
        archived: 0,
      },
    }),
    startCatalogReceiver({ token: canary.catalogToken }),
    startFakeControlPlane({ token: canary.agentToken, leaseMs: 30_000, maxPerPoll: 1_000 }),
    startFixtureSource({ items: 30, secret: canary.fixture }),
  ]);
  closers.push(
    () => cyera.close(),
    () => cyral.close(),
    () => anaplan.close(),
    () => catalog.close(),
    () => controlPlane.close(),
    () => source.close(),
  );
  const exfil = await startForbiddenHost('exfil', '127.0.0.2');
  const redirectTarget = await startForbiddenHost('redirect-target', '127.0.0.1');
  closers.push(exfil.close, redirectTarget.close);
  const redirector = await startRedirector(redirectTarget.host.url);
  closers.push(redirector.close);

  // The stores: each operator store as run-level tests set it up, then the credential kinds those
  // leave out (an Azure client secret, a GCP service-account key, a Vault token) and a Vault
  // AppRole whose secret id Vault refuses (a store login failure).
  const stores: Record<string, OperatorStore> = {};
  for (const [name, start] of Object.entries(operatorStores)) {
    stores[name] = await start(canary.store[name]!);
    closers.push(stores[name].close);
  }
  const azure = await startAzureFakes();
  closers.push(azure.close);
  azure.entra.register(TENANT_ID, CLIENT_ID, { kind: 'secret', secret: canary.azureClientSecret });
  azure.vault.put('perimeter-fixture', document(canary.store['azure-secret']!));
  const gcp = await startGcpSmFake();
  closers.push(gcp.close);
  const serviceAccount = gcp.identity.createServiceAccount(
    'proof@perimeter-runs.iam.gserviceaccount.com',
  );
  gcp.state.addVersion(
    'projects/perimeter-runs/secrets/fixture-secret',
    document(canary.store['gcp-key']!),
  );
  const vault = (stores['vault'] as OperatorStore & { readonly fake: VaultFake }).fake;
  vault.putKv2('secret', 'perimeter/token-read', { secret: canary.store['vault-token']! });
  const vaultToken = vault.createToken({ policies: ['secret/data/perimeter/*'], ttlSeconds: 3600 });
  const fileSecrets: Record<string, string> = {
    'cyera-secret': `${cyera.secret}\n`,
    'cyral-client-secret': `${cyral.clientSecret}\n`,
    'anaplan-certificate.pem': certificate.certificatePem,
    'anaplan-private-key.pem': certificate.privateKeyPem,
    'catalog-token': `${canary.catalogToken}\n`,
    'fixture-secret': `${canary.store['file']!}\n`,
  };
  for (const [name, text] of Object.entries(fileSecrets)) {
    writeFileSync(join(secrets, name), text, { mode: 0o600 });
  }
  const file = (name: string): string => `file://${join(secrets, name)}`;

  const vaultProfile = (
    parseYaml(`profiles:${stores['vault']!.yaml}`) as {
      profiles: { vault: Record<string, unknown> & { auth: Record<string, unknown> } };
    }
  ).profiles.vault;
  const extraStores = {
    'azure-secret': {
      type: 'azure-kv',
      allow: ['contoso-prod.vault.azure.net/perimeter-*'],
      ...azureProfile(azure),
    },
    'gcp-key': {
      type: 'gcp-sm',
      allowedProjects: ['perimeter-runs'],
      allow: ['projects/perimeter-runs/secrets/fixture-*'],
      apiEndpoint: gcp.restUrl,
      tokenHosts: [new URL(gcp.restUrl).host],
      auth: { type: 'serviceAccountKey', key: 'env://ATK_GCP_KEY' },
    },
    'vault-token': { ...vaultProfile, auth: { type: 'token', token: 'env://ATK_VAULT_TOKEN' } },
    'vault-bad': {
      ...vaultProfile,
      auth: { ...vaultProfile.auth, secretId: 'env://ATK_VAULT_BAD_SECRET_ID' },
    },
  };
  const operatorYaml = parseYaml(
    `secretStores:${Object.values(stores)
      .map((store) => store.yaml)
      .join('')}`,
  ) as { secretStores: Record<string, unknown> };

  // One fixture connection per store profile, each reading the stored value of its own canary.
  const storeRefs: Record<string, string> = {
    ...Object.fromEntries(Object.entries(stores).map(([name, store]) => [name, store.ref])),
    'azure-secret': 'azure-kv://contoso-prod/perimeter-fixture?store=azure-secret#secret',
    'gcp-key': 'gcp-sm://perimeter-runs/fixture-secret?store=gcp-key#secret',
    'vault-token': 'vault://secret/perimeter/token-read?store=vault-token#secret',
    'vault-bad': 'vault://secret/perimeter/fixture?store=vault-bad#secret',
    file: file('fixture-secret'),
    env: 'env://ATK_STORED_SECRET',
  };
  const storeSources: Record<string, FixtureSource> = {};
  for (const name of Object.keys(storeRefs)) {
    const value = name === 'vault-bad' ? canary.store['vault']! : canary.store[name]!;
    storeSources[name] = await startFixtureSource({ items: 5, secret: value });
    closers.push(storeSources[name].close);
  }
  // The flood's runs wait: the one or two that get a lease hang on this source.
  const floodSource = await startFixtureSource({ items: 5, secret: canary.fixture });
  floodSource.always({ status: 200, delayMs: 60_000 });
  closers.push(floodSource.close);
  const sourceHosts = [source, floodSource, ...Object.values(storeSources)].map(
    (s) => new URL(s.url).host,
  );
  const prefix = uniquePrefix('proof-attacks');
  const maxWaitingRuns = options.maxWaitingRuns;
  const config = {
    agent: { id: AGENT_ID, logLevel: 'info' },
    catalog: { url: catalog.url, token: file('catalog-token'), batchMaxAssets: 50 },
    redis: { url: REDIS_URL, prefix, connectTimeoutMs: 1_000 },
    queue: {
      concurrency: 4,
      attempts: 2,
      backoffMs: 100,
      lockDurationMs: 5_000,
      stalledIntervalMs: 2_000,
      leaseRetryMs: 1_000,
      shutdownGraceMs: 5_000,
      maxWaitingRuns,
    },
    health: { port: 0, host: '127.0.0.1', probeIntervalMs: 500 },
    ledger: { file: join(ledgerDir, 'ledger.jsonl') },
    review: { dir: reviewDir, connections: { cyral: 'every' } },
    controlPlane: {
      url: controlPlane.url,
      agentToken: 'env://ATK_AGENT_TOKEN',
      publicKey: controlPlane.signer.publicKeyPem,
      pollWaitSeconds: 1,
      heartbeatIntervalSeconds: 1,
      backoff: { baseMs: 50, maxMs: 500 },
    },
    secretStores: {
      file: { type: 'file', allow: [`${secrets}/*`] },
      env: { type: 'env', allow: ['ATK_*', 'STORE_*', 'FIXTURE_SECRET'] },
      ...operatorYaml.secretStores,
      ...extraStores,
    },
    policy: {
      connectors: {
        fixture: {
          allowHosts: [...sourceHosts, new URL(redirector.url).host],
          inlineSecretRefs: ['env://FIXTURE_SECRET'],
          maxConcurrentRunsPerConnection: 2,
        },
        cyera: { allowHosts: [cyera.host] },
        cyral: { allowHosts: [cyral.host] },
        anaplan: { allowHosts: [...anaplan.hosts] },
      },
    },
    connections: {
      fx: {
        connector: 'fixture',
        baseUrl: source.url,
        pageSize: 10,
        credentials: { secret: 'env://FIXTURE_SECRET' },
      },
      flood: {
        connector: 'fixture',
        baseUrl: floodSource.url,
        credentials: { secret: 'env://FIXTURE_SECRET' },
      },
      ...Object.fromEntries(
        Object.entries(storeRefs).map(([name, ref]) => [
          `store-${name}`,
          {
            connector: 'fixture',
            baseUrl: storeSources[name]!.url,
            pageSize: 10,
            credentials: { secret: ref },
          },
        ]),
      ),
      cyera: {
        connector: 'cyera',
        baseUrl: cyera.url,
        credentials: { clientId: 'env://ATK_CYERA_CLIENT_ID', secret: file('cyera-secret') },
      },
      'cyera-wrong': {
        connector: 'cyera',
        baseUrl: cyera.url,
        credentials: { clientId: 'env://ATK_CYERA_CLIENT_ID', secret: 'env://ATK_CYERA_WRONG' },
      },
      cyral: {
        connector: 'cyral',
        baseUrl: cyral.url,
        credentials: {
          clientId: 'env://ATK_CYRAL_CLIENT_ID',
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
          passphrase: 'env://ATK_ANAPLAN_KEY_PASSPHRASE',
        },
      },
    },
  };
  const configPath = join(dir, 'perimeter.yaml');
  writeFileSync(configPath, `${JSON.stringify(config, null, 2)}\n`);
  const env: Record<string, string> = {
    ...(Object.assign({}, ...Object.values(stores).map((store) => store.env)) as Record<
      string,
      string
    >),
    FIXTURE_SECRET: canary.fixture,
    ATK_AGENT_TOKEN: canary.agentToken,
    ATK_CYERA_CLIENT_ID: cyera.clientId,
    ATK_CYERA_WRONG: canary.cyeraWrong,
    ATK_CYRAL_CLIENT_ID: cyral.clientId,
    ATK_ANAPLAN_KEY_PASSPHRASE: canary.passphrase,
    ATK_AZURE_CLIENT_SECRET: canary.azureClientSecret,
    ATK_GCP_KEY: serviceAccount.json,
    ATK_VAULT_TOKEN: vaultToken,
    ATK_VAULT_BAD_SECRET_ID: canary.vaultBadSecretId,
    ATK_STORED_SECRET: canary.store['env']!,
  };
  const redis = new Redis(REDIS_URL);
  closers.push(async () => {
    await deleteKeys(redis, prefix);
    redis.disconnect();
  });
  let agent: AgentProcess | undefined;
  try {
    agent = await spawnAgent({ name: 'attacks', configPath, env });
  } catch (error) {
    await closeAll(closers);
    throw error;
  }
  const running = agent;
  const privateKeyBody = pemBody(certificate.privateKeyPem);
  return {
    agent: running,
    redis,
    prefix,
    controlPlane,
    catalog,
    catalogToken: canary.catalogToken,
    source,
    floodSource,
    redirectorUrl: redirector.url,
    forbidden: { exfil: exfil.host, redirectTarget: redirectTarget.host },
    cyera,
    cyral,
    anaplan,
    storeConnections: Object.fromEntries(
      Object.keys(storeRefs).map((name) => [name, `store-${name}`]),
    ),
    outputDirs: [reviewDir, ledgerDir],
    maxWaitingRuns,
    canaries: () => ({
      'control-plane agent token': [canary.agentToken],
      'catalog token': [canary.catalogToken],
      'fixture client secret': [canary.fixture],
      'Cyera client secret': [cyera.secret],
      'Cyera wrong client secret (401)': [canary.cyeraWrong],
      'Cyral client secret': [cyral.clientSecret],
      'Cyral issued tokens': cyral.issuedTokens(),
      'Anaplan private key': [certificate.privateKeyPem, ...privateKeyBody],
      'Anaplan key passphrase': [canary.passphrase],
      ...Object.fromEntries(
        Object.entries(canary.store).map(([name, value]) => [`value stored in ${name}`, [value]]),
      ),
      ...Object.fromEntries(
        Object.entries(stores).map(([name, store]) => [`${name} credentials`, store.credentials()]),
      ),
      'azure-kv client secret': [canary.azureClientSecret],
      'gcp-sm service-account private key': pemBody(
        (JSON.parse(serviceAccount.json) as { private_key: string }).private_key,
      ),
      'vault token (token auth)': [vaultToken],
      'vault AppRole secret id refused at login': [canary.vaultBadSecretId],
    }),
    close: async () => {
      await stopAgent(running);
      await closeAll(closers);
    },
  };
}

function azureProfile(fakes: AzureFakes): Record<string, unknown> {
  return fakes.profile({
    auth: {
      type: 'clientSecret',
      tenantId: TENANT_ID,
      clientId: CLIENT_ID,
      clientSecret: 'env://ATK_AZURE_CLIENT_SECRET',
    },
  });
}

/** The lines of a PEM's base64 body: a leak of any one of them is a leak of the key. */
function pemBody(pem: string): string[] {
  return pem
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('-----') && !line.includes(':'));
}

async function closeAll(closers: readonly (() => Promise<void>)[]): Promise<void> {
  await Promise.allSettled([...closers].reverse().map((close) => close()));
}

async function startForbiddenHost(
  name: string,
  address: string,
): Promise<{ host: ForbiddenHost; close(): Promise<void> }> {
  let connections = 0;
  const server: TcpServer = createTcpServer((socket) => {
    connections += 1;
    socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, address, resolve));
  const { port } = server.address() as AddressInfo;
  return {
    host: { name, url: `http://${address}:${port}`, connections: () => connections },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => {
          resolve();
        });
      }),
  };
}

async function startRedirector(target: string): Promise<{ url: string; close(): Promise<void> }> {
  const server: HttpServer = createServer((request, response) => {
    response.writeHead(302, { location: `${target}${request.url ?? '/'}` });
    response.end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => {
          resolve();
        });
      }),
  };
}

// `npm run bench`: end-to-end figures of the agent as a process (peak RSS and throughput) for
// growing run sizes, on the fixture source and on the Cyera, Anaplan and Cyral simulators. Figures go to
// docs/benchmarks.md by hand; nothing here is asserted.
//
//   node bench/run.ts [--quick] [fixture|cyera|anaplan|cyral ...]   (default: all)
import { startFixtureSource } from '../test/fakes/fixture/source.ts';
import { startAnaplanSimulator } from '../test/fakes/anaplan/simulator.ts';
import { startCyeraSimulator } from '../test/fakes/cyera/simulator.ts';
import { startCyralSimulator } from '../test/fakes/cyral/simulator.ts';
import { measureAgentRun, row } from './agent-run.ts';

const quick = process.argv.includes('--quick');
const only = new Set(process.argv.slice(2).filter((arg) => !arg.startsWith('--')));
const wanted = (name: string): boolean => only.size === 0 || only.has(name);
const HEAP_CAP_MIB = 128;
/** The production profile (Dockerfile, Helm `nodeOptions`): a capped heap with a young generation big enough not to thrash. */
const CAPPED = { maxOldSpaceMiB: HEAP_CAP_MIB, flags: ['--max-semi-space-size=16'] };

async function fixtureRuns(lines: string[]): Promise<void> {
  for (const items of quick ? [10_000, 100_000] : [10_000, 100_000, 1_000_000]) {
    const source = await startFixtureSource({ items, secret: 'bench-secret-value' });
    const job = {
      connector: 'fixture',
      connection: {
        baseUrl: source.url,
        pageSize: 1000,
        credentials: { secret: 'env://BENCH_SECRET' },
      },
      env: { BENCH_SECRET: 'bench-secret-value' },
    };
    lines.push(
      row(`fixture ${items.toLocaleString('en')} items`, 'default', await measureAgentRun(job)),
    );
    lines.push(
      row(
        `fixture ${items.toLocaleString('en')} items`,
        `${HEAP_CAP_MIB} MiB + 16 MiB semi-space`,
        await measureAgentRun(job, CAPPED),
      ),
    );
    await source.close();
  }
}

async function cyeraRuns(lines: string[]): Promise<void> {
  for (const columns of quick ? [100_000] : [100_000, 1_000_000]) {
    const tablesPerSchema = Math.max(1, Math.round(columns / (2 * 2 * 5 * 100)));
    const simulator = await startCyeraSimulator({
      size: {
        datastores: 2,
        databasesPerDatastore: 2,
        schemasPerDatabase: 5,
        tablesPerSchema,
        columnsPerTable: 100,
        issuesPerDatastore: 500,
        identitiesPerDatastore: 300,
      },
    });
    const job = {
      connector: 'cyera',
      connection: {
        baseUrl: simulator.url,
        credentials: { clientId: 'env://CYERA_CLIENT_ID', secret: 'env://CYERA_SECRET' },
      },
      env: { CYERA_CLIENT_ID: simulator.clientId, CYERA_SECRET: simulator.secret },
    };
    lines.push(
      row(`cyera ${columns.toLocaleString('en')} columns`, 'default', await measureAgentRun(job)),
    );
    lines.push(
      row(
        `cyera ${columns.toLocaleString('en')} columns`,
        `${HEAP_CAP_MIB} MiB + 16 MiB semi-space`,
        await measureAgentRun(job, CAPPED),
      ),
    );
    await simulator.close();
  }
}

async function anaplanRuns(lines: string[]): Promise<void> {
  for (const lineItems of quick ? [100_000] : [100_000, 500_000]) {
    // One large model: 100 modules, line items spread over them, read 5,000 per page.
    const simulator = await startAnaplanSimulator({
      size: {
        workspaces: 1,
        modelsPerWorkspace: 1,
        listsPerModel: 50,
        modulesPerModel: 100,
        lineItemsPerModule: lineItems / 100,
      },
    });
    const job = {
      connector: 'anaplan',
      connection: {
        authUrl: simulator.authUrl,
        apiUrl: simulator.apiUrl,
        credentials: { user: 'env://ANAPLAN_USER', password: 'env://ANAPLAN_PASSWORD' },
      },
      env: { ANAPLAN_USER: simulator.user, ANAPLAN_PASSWORD: simulator.password },
      allowHosts: simulator.hosts,
    };
    const name = `anaplan ${lineItems.toLocaleString('en')} line items`;
    lines.push(row(name, 'default', await measureAgentRun(job)));
    lines.push(
      row(name, `${HEAP_CAP_MIB} MiB + 16 MiB semi-space`, await measureAgentRun(job, CAPPED)),
    );
    await simulator.close();
  }
}

/**
 * A large Cyral tenant: 10 sidecars, repositories of 5 schemas × 50 tables × 20 labeled columns
 * (5,000 per data map), 5 user accounts with 4 access rules each, 30 labels, 50 policies.
 */
async function cyralRuns(lines: string[]): Promise<void> {
  for (const columns of quick ? [100_000] : [100_000, 1_000_000]) {
    const simulator = await startCyralSimulator({
      size: {
        sidecars: 10,
        listenersPerSidecar: 4,
        repos: Math.max(1, Math.round(columns / 5000)),
        schemasPerRepo: 5,
        tablesPerSchema: 50,
        columnsPerTable: 20,
        accountsPerRepo: 5,
        rulesPerAccount: 4,
        labels: 30,
        legacyPolicies: 50,
        policiesV2: 10,
        roles: 20,
      },
      tokens: { issueRefreshTokens: true },
    });
    const job = {
      connector: 'cyral',
      connection: {
        baseUrl: simulator.url,
        credentials: { clientId: 'env://CYRAL_CLIENT_ID', clientSecret: 'env://CYRAL_SECRET' },
      },
      env: { CYRAL_CLIENT_ID: simulator.clientId, CYRAL_SECRET: simulator.clientSecret },
    };
    const label = `cyral ${columns.toLocaleString('en')} columns`;
    lines.push(row(label, 'default', await measureAgentRun(job)));
    lines.push(
      row(label, `${HEAP_CAP_MIB} MiB + 16 MiB semi-space`, await measureAgentRun(job, CAPPED)),
    );
    await simulator.close();
  }
}

const lines = [
  '| run | V8 heap cap | assets | time | assets/s | agent peak RSS |',
  '|---|---|---:|---:|---:|---:|',
];
if (wanted('fixture')) await fixtureRuns(lines);
if (wanted('cyera')) await cyeraRuns(lines);
if (wanted('anaplan')) await anaplanRuns(lines);
if (wanted('cyral')) await cyralRuns(lines);
process.stdout.write(
  `Node ${process.version}, ${new Date().toISOString().slice(0, 10)}\n\n${lines.join('\n')}\n`,
);

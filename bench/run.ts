// `npm run bench`: end-to-end figures of the agent as a process (peak RSS and throughput) for
// growing run sizes, on the fixture source and on the Cyera and Anaplan simulators. Figures go to
// docs/benchmarks.md by hand; nothing here is asserted.
//
//   node bench/run.ts [--quick]
import { startFixtureSource } from '../test/fakes/fixture/source.ts';
import { startAnaplanSimulator } from '../test/fakes/anaplan/simulator.ts';
import { startCyeraSimulator } from '../test/fakes/cyera/simulator.ts';
import { measureAgentRun, row } from './agent-run.ts';

const quick = process.argv.includes('--quick');
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

const lines = [
  '| run | V8 heap cap | assets | time | assets/s | agent peak RSS |',
  '|---|---|---:|---:|---:|---:|',
];
await fixtureRuns(lines);
await cyeraRuns(lines);
await anaplanRuns(lines);
process.stdout.write(
  `Node ${process.version}, ${new Date().toISOString().slice(0, 10)}\n\n${lines.join('\n')}\n`,
);

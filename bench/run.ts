// `npm run bench`: the agent against the limit, in the same run. For each case the bare client
// (bench/bare-client.ts: the same data from the same simulator, split and `JSON.parse`, nothing
// else) and the agent (`perimeter run` as a user launches it, pushing to a catalog receiver) run
// alternately, each in a process of its own; the simulator and the receiver run in processes of
// their own too, so their CPU counts for neither. Reported per case, as medians over the rounds:
// CPU seconds per column of each and their ratio (CPU, not wall time: robust to a busy machine),
// wall throughput and its ratio, and the agent's peak RSS. docs/performance.md explains it.
//
//   node bench/run.ts [--quick] [--rounds N] [--json FILE] [--cyera COLUMNS] [--cyral COLUMNS] [--anaplan LINE_ITEMS]
//   (the cases named alone)
//
// Nothing here is asserted; figures go to docs/benchmarks.md by hand.
import { writeFileSync } from 'node:fs';
import { cyeraJob, measureAgentRun } from './agent-run.ts';
import type { AgentRunFigures, AgentRunJob } from './agent-run.ts';
import { runBareClient, startService } from './services.ts';
import type { BareFigures, ServiceProcess } from './services.ts';
import { median } from './stats.ts';

interface BenchCase {
  readonly name: string;
  /** Service kind of the source and its size options. */
  readonly source: string;
  readonly size: Record<string, number>;
  /** What one unit of work is: columns of a Cyera stream, line items of Anaplan. */
  readonly unit: string;
  readonly rounds: number;
  readonly job: (info: Record<string, unknown>) => AgentRunJob;
}

interface Round {
  readonly bare: BareFigures;
  readonly agent: AgentRunFigures & { readonly assets: number; readonly repeated: number };
}

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const flag = (name: string): string | undefined => {
  const index = args.indexOf(name);
  return index === -1 ? undefined : args[index + 1];
};
const rounds = Number(flag('--rounds') ?? (quick ? 1 : 3));
const jsonPath = flag('--json') ?? 'bench-results.json';

function cyeraCase(columns: number): BenchCase {
  return {
    name: `Cyera ${columns.toLocaleString('en')} columns`,
    source: 'cyera',
    size: { columns },
    unit: 'column',
    rounds,
    job: cyeraJob,
  };
}

function anaplanCase(lineItems: number): BenchCase {
  return {
    name: `Anaplan ${lineItems.toLocaleString('en')} line items`,
    source: 'anaplan',
    size: { lineItems },
    unit: 'record',
    rounds,
    job: (info) => ({
      connector: 'anaplan',
      connection: {
        authUrl: info['authUrl'],
        apiUrl: info['apiUrl'],
        credentials: { user: 'env://ANAPLAN_USER', password: 'env://ANAPLAN_PASSWORD' },
      },
      env: { ANAPLAN_USER: String(info['user']), ANAPLAN_PASSWORD: String(info['password']) },
      allowHosts: info['hosts'] as string[],
    }),
  };
}

function cyralCase(columns: number): BenchCase {
  return {
    name: `Cyral ${columns.toLocaleString('en')} columns`,
    source: 'cyral',
    size: { columns },
    unit: 'column',
    rounds,
    job: (info) => ({
      connector: 'cyral',
      connection: {
        baseUrl: info['url'],
        credentials: { clientId: 'env://CYRAL_CLIENT_ID', clientSecret: 'env://CYRAL_SECRET' },
        // The simulator has no rate limit: the connector's default budget (10 requests/s, about
        // 7 per repository) would make the wall time the budget's, not the agent's work.
        rateLimit: { requestsPerSecond: 1_000, burst: 1_000 },
      },
      env: {
        CYRAL_CLIENT_ID: String(info['clientId']),
        CYRAL_SECRET: String(info['clientSecret']),
      },
      allowHosts: [new URL(String(info['url'])).host],
    }),
  };
}

const onlyCyera = flag('--cyera');
const onlyCyral = flag('--cyral');
const onlyAnaplan = flag('--anaplan');
const CASES: readonly BenchCase[] =
  onlyCyera !== undefined || onlyCyral !== undefined || onlyAnaplan !== undefined
    ? [
        ...(onlyCyera === undefined ? [] : [cyeraCase(Number(onlyCyera))]),
        ...(onlyCyral === undefined ? [] : [cyralCase(Number(onlyCyral))]),
        ...(onlyAnaplan === undefined ? [] : [anaplanCase(Number(onlyAnaplan))]),
      ]
    : quick
      ? [cyeraCase(100_000)]
      : [
          cyeraCase(100_000),
          cyeraCase(1_000_000),
          cyeraCase(3_000_000),
          cyralCase(1_000_000),
          anaplanCase(200_000),
        ];

async function measureCase(bench: BenchCase): Promise<Round[]> {
  const source = await startService(bench.source, bench.size);
  const results: Round[] = [];
  try {
    for (let round = 0; round < bench.rounds; round += 1) {
      const bare = await runBareClient(bench.source, source.info);
      results.push({ bare, agent: await agentRound(bench, source, round) });
      process.stderr.write(`${bench.name}: round ${round + 1} of ${bench.rounds} done\n`);
    }
  } finally {
    await source.close();
  }
  return results;
}

async function agentRound(
  bench: BenchCase,
  source: ServiceProcess,
  round: number,
): Promise<Round['agent']> {
  const catalog = await startService('catalog');
  try {
    const figures = await measureAgentRun(
      bench.job(source.info),
      String(catalog.info['url']),
      `bench-${round}`,
    );
    const stats = await catalog.stats();
    return { ...figures, assets: stats['assets'] ?? 0, repeated: stats['repeated'] ?? 0 };
  } finally {
    await catalog.close();
  }
}

/** The figures of one case, medians over its rounds. */
function summarise(bench: BenchCase, results: readonly Round[]): Record<string, number | string> {
  const units = (round: Round): number =>
    bench.unit === 'column' ? round.bare.columns : round.bare.records;
  const perUnit = (seconds: number, round: Round): number => (seconds / units(round)) * 1e6;
  return {
    case: bench.name,
    unit: bench.unit,
    units: units(results[0]!),
    assets: median(results.map((r) => r.agent.assets)),
    repeatedAssets: Math.max(...results.map((r) => r.agent.repeated)),
    rounds: results.length,
    bareCpuMicrosPerUnit: median(results.map((r) => perUnit(r.bare.cpuSeconds, r))),
    agentCpuMicrosPerUnit: median(results.map((r) => perUnit(r.agent.cpuSeconds, r))),
    cpuRatio: median(results.map((r) => r.agent.cpuSeconds / r.bare.cpuSeconds)),
    bareUnitsPerSecond: median(results.map((r) => units(r) / r.bare.wallSeconds)),
    agentUnitsPerSecond: median(results.map((r) => units(r) / r.agent.wallSeconds)),
    wallRatio: median(results.map((r) => r.bare.wallSeconds / r.agent.wallSeconds)),
    agentPeakRssMiB: Math.max(...results.map((r) => r.agent.peakRssBytes)) / 2 ** 20,
  };
}

function table(rows: readonly Record<string, number | string>[]): string {
  const n = (value: number | string | undefined, digits = 0): string =>
    Number(value).toLocaleString('en', {
      minimumFractionDigits: digits,
      maximumFractionDigits: digits,
    });
  return [
    '| case | rounds | bare CPU µs/unit | agent CPU µs/unit | CPU ratio | bare units/s | agent units/s | throughput ratio | agent peak RSS |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...rows.map(
      (row) =>
        `| ${row['case']} | ${row['rounds']} | ${n(row['bareCpuMicrosPerUnit'], 2)} | ${n(row['agentCpuMicrosPerUnit'], 2)} | ${n(row['cpuRatio'], 2)}× | ${n(row['bareUnitsPerSecond'])} | ${n(row['agentUnitsPerSecond'])} | ${n(row['wallRatio'], 2)}× | ${n(row['agentPeakRssMiB'])} MiB |`,
    ),
  ].join('\n');
}

const started = performance.now();
const rows: Record<string, number | string>[] = [];
const raw: Record<string, readonly Round[]> = {};
/** Writes the JSON results so far: a bench cut short still leaves the cases it finished. */
function save(minutes: number): void {
  const results = { node: process.version, date: new Date().toISOString(), minutes, rows, raw };
  writeFileSync(jsonPath, `${JSON.stringify(results, null, 2)}\n`);
}

for (const bench of CASES) {
  const results = await measureCase(bench);
  raw[bench.name] = results;
  rows.push(summarise(bench, results));
  save((performance.now() - started) / 60_000);
  process.stderr.write(`${table(rows.slice(-1)).split('\n').at(-1) ?? ''}\n`);
}
const minutes = (performance.now() - started) / 60_000;
process.stdout.write(
  `Node ${process.version}, ${new Date().toISOString().slice(0, 16)}Z, ${minutes.toFixed(1)} min; JSON in ${jsonPath}\n\n${table(rows)}\n`,
);

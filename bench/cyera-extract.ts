// Cyera extract benchmark: the connector in a child process, reading the Cyera simulator and
// pushing through the real catalog sink to the catalog receiver (both in this process), so the
// child's peak RSS is the connector's and the sink's alone.
//
//   node bench/cyera-extract.ts [columns ...]     (default: 100000 1000000)
//
// Prints a Markdown table: assets, duration, throughput and peak memory per size.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { createHttpClient } from '../agent/http/client.ts';
import { HttpSettingsSchema } from '../agent/http/settings.ts';
import { createLogger } from '../agent/logging/logger.ts';
import { Redactor } from '../agent/logging/redactor.ts';
import { SecretValue } from '../agent/plugin-api/index.ts';
import { catalogDestinationPolicy, createCatalogSink } from '../agent/sink/catalog-sink.ts';
import { CatalogSettingsSchema } from '../agent/sink/settings.ts';
import type { Sink } from '../agent/sink/types.ts';
import type { ClosableHttpClient, DestinationPolicy } from '../agent/http/types.ts';
import type { CyeraContext } from '../connectors/cyera/extract.ts';
import { CyeraConfigSchema, CyeraParamsSchema } from '../connectors/cyera/config.ts';
import { connector } from '../connectors/cyera/index.ts';
import { startCatalogReceiver } from '../test/fakes/catalog-receiver.ts';
import { expectedAssets } from '../test/fakes/cyera/expected.ts';
import { startCyeraSimulator } from '../test/fakes/cyera/simulator.ts';
import type { CyeraTenantSize } from '../test/fakes/cyera/tenant.ts';

/** What the parent hands the child. */
interface ChildJob {
  readonly cyeraUrl: string;
  readonly clientId: string;
  readonly secret: string;
  readonly catalogUrl: string;
}

/** What the child reports on stdout. */
interface ChildReport {
  readonly assets: number;
  readonly checkpoints: number;
  readonly durationMs: number;
  readonly peakRssBytes: number;
  readonly peakHeapUsedBytes: number;
  /** Largest heap still in use right after a full GC (the child runs with --expose-gc). */
  readonly peakRetainedHeapBytes: number;
}

const COLUMNS_PER_TABLE = 100;

/** Two datastores of 2 databases × 5 schemas, tables sized to reach `columns`. */
function sizeFor(columns: number): Partial<CyeraTenantSize> {
  const tablesPerSchema = Math.max(1, Math.round(columns / (2 * 2 * 5 * COLUMNS_PER_TABLE)));
  return {
    datastores: 2,
    databasesPerDatastore: 2,
    schemasPerDatabase: 5,
    tablesPerSchema,
    columnsPerTable: COLUMNS_PER_TABLE,
    issuesPerDatastore: 500,
    identitiesPerDatastore: 300,
  };
}

/** Peak memory of this process: sampled RSS and heap, and the heap left after a full GC. */
class MemoryPeaks {
  rss = 0;
  heap = 0;
  retained = 0;
  readonly #timers: NodeJS.Timeout[];

  constructor() {
    const collect = (globalThis as { gc?: () => void }).gc;
    this.#timers = [
      setInterval(() => {
        this.sample();
      }, 50),
      setInterval(() => {
        collect?.();
        this.retained = Math.max(this.retained, process.memoryUsage().heapUsed);
      }, 1000),
    ];
  }

  sample(): void {
    const usage = process.memoryUsage();
    this.rss = Math.max(this.rss, usage.rss, process.resourceUsage().maxRSS * 1024);
    this.heap = Math.max(this.heap, usage.heapUsed);
  }

  stop(): void {
    this.#timers.forEach(clearInterval);
    this.sample();
  }
}

/** The agent's parts as the worker wires them: source client, catalog sink, connector context. */
function pipeline(
  job: ChildJob,
  signal: AbortSignal,
): { sink: Sink; ctx: CyeraContext; http: ClosableHttpClient } {
  const redactor = new Redactor();
  redactor.add(job.secret);
  const logger = createLogger({ level: 'warn', redactor, destination: pino.destination(2) });
  const client = (errorDomain: 'source' | 'sink', policy: DestinationPolicy): ClosableHttpClient =>
    createHttpClient({
      policy,
      settings: HttpSettingsSchema.parse({}),
      redactor,
      logger,
      errorDomain,
      userAgent: 'perimeter-bench',
    });
  const catalog = CatalogSettingsSchema.parse({ url: job.catalogUrl });
  const sink = createCatalogSink({
    settings: catalog,
    http: client('sink', catalogDestinationPolicy(catalog)),
    token: () => Promise.resolve(undefined),
    logger,
  });
  const http = client('source', {
    allowedHosts: [new URL(job.cyeraUrl).host],
    allowedCalls: connector.authCalls,
  });
  const ctx: CyeraContext = {
    config: CyeraConfigSchema.parse({
      baseUrl: job.cyeraUrl,
      credentials: { clientId: new SecretValue(job.clientId), secret: new SecretValue(job.secret) },
    }),
    params: CyeraParamsSchema.parse({}),
    signal,
    logger,
    http,
    cursor: undefined,
    runId: 'bench-cyera',
  };
  return { sink, ctx, http };
}

async function child(job: ChildJob): Promise<ChildReport> {
  const peaks = new MemoryPeaks();
  const signal = new AbortController().signal;
  const { sink, ctx, http } = pipeline(job, signal);
  const startedMs = performance.now();
  const run = sink.open({
    runId: 'bench-cyera',
    connector: 'cyera',
    signal,
    onCommit: () => Promise.resolve(),
  });
  let assets = 0;
  let checkpoints = 0;
  for await (const event of connector.read(ctx)) {
    if (event.type === 'asset') {
      assets += 1;
      await run.write(event.asset);
    } else if (event.type === 'checkpoint') {
      checkpoints += 1;
      await run.checkpoint(event.cursor);
    }
  }
  await run.complete();
  const durationMs = performance.now() - startedMs;
  peaks.stop();
  await sink.close();
  await http.close();
  return {
    assets,
    checkpoints,
    durationMs,
    peakRssBytes: peaks.rss,
    peakHeapUsedBytes: peaks.heap,
    peakRetainedHeapBytes: peaks.retained,
  };
}

async function runChild(job: ChildJob): Promise<ChildReport> {
  const script = fileURLToPath(import.meta.url);
  const processChild = spawn(
    process.execPath,
    ['--expose-gc', script, '--child', JSON.stringify(job)],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  let out = '';
  processChild.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    out += chunk;
  });
  const code = await new Promise<number | null>((resolve) => processChild.on('close', resolve));
  if (code !== 0) {
    throw new Error(`bench child exited with ${code}`);
  }
  return JSON.parse(out) as ChildReport;
}

async function measure(columns: number): Promise<string> {
  const simulator = await startCyeraSimulator({ seed: 7, size: sizeFor(columns) });
  const receiver = await startCatalogReceiver();
  try {
    const report = await runChild({
      cyeraUrl: simulator.url,
      clientId: simulator.clientId,
      secret: simulator.secret,
      catalogUrl: receiver.url,
    });
    const expected = expectedAssets(simulator.tenant);
    const counts = [...receiver.assetCounts().values()];
    const exactlyOnce = counts.length === expected.total && counts.every((n) => n === 1);
    if (!exactlyOnce || report.assets !== expected.total) {
      throw new Error(`expected ${expected.total} assets once each, got ${counts.length}`);
    }
    const seconds = report.durationMs / 1000;
    const mib = (bytes: number): string => (bytes / 1024 / 1024).toFixed(0);
    return [
      expected.CyeraColumn.toLocaleString('en'),
      report.assets.toLocaleString('en'),
      seconds.toFixed(1),
      Math.round(report.assets / seconds).toLocaleString('en'),
      Math.round(expected.CyeraColumn / seconds).toLocaleString('en'),
      mib(simulator.stats().bytesStreamed),
      mib(report.peakRssBytes),
      mib(report.peakHeapUsedBytes),
      mib(report.peakRetainedHeapBytes),
    ].join(' | ');
  } finally {
    await receiver.close();
    await simulator.close();
  }
}

async function main(): Promise<void> {
  if (process.argv[2] === '--child') {
    const report = await child(JSON.parse(process.argv[3] ?? '{}') as ChildJob);
    process.stdout.write(JSON.stringify(report));
    return;
  }
  const sizes = process.argv.slice(2).map(Number);
  const rows: string[] = [];
  for (const columns of sizes.length > 0 ? sizes : [100_000, 1_000_000]) {
    rows.push(await measure(columns));
  }
  console.log(
    [
      `Cyera extract → catalog sink → receiver (Node ${process.version}, ${COLUMNS_PER_TABLE} columns per table)`,
      '',
      '| columns | assets | seconds | assets/s | columns/s | NDJSON read (MiB) | peak RSS (MiB) | peak heap (MiB) | heap after GC, max (MiB) |',
      '|---|---|---|---|---|---|---|---|---|',
      ...rows.map((row) => `| ${row} |`),
    ].join('\n'),
  );
}

await main();

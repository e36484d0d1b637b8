// `npm run test:load`: the sustained load run (docs/reliability.md, "Sustained load").
//
// The agent as an operator runs it (`bin/perimeter.js start`, the daemon, its own heap settings)
// in a child process on Redis, taking signed run instructions from the control-plane fake and
// running extracts against the Cyera, Cyral and Anaplan simulators at the worker's configured
// concurrency, pushing to the catalog fake; everything on loopback. The run issues instructions
// for `--minutes` (default 4) or until `--max-runs` (default 5000) were issued, keeping the queue
// fed, then waits for the last runs and drains the agent with SIGTERM.
//
// Every 5 s it scrapes /metrics (RSS, heap used, event-loop lag p99, runs, assets); every 10 s it
// asks the probe preloaded into the agent (probe.ts, with --expose-gc, in this launch only) for
// the live heap after a full GC; at exit the probe records what still held the event loop.
// Passes when every run is accounted for, every asset is in the catalog exactly once per run,
// RSS and live heap of the last minute stay within 1.15× of the first, and nothing stays open.
// Writes docs/reliability/load-results.json and docs/reliability/load-memory.svg.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { runDraft } from '../../fakes/control-plane/server.ts';
import { AGENT_ID, setStage } from '../../demo/daemon/stage.ts';
import type { StageSizes } from '../../demo/daemon/stage.ts';
import { findRedis } from '../../demo/daemon/redis.ts';
import { spawnAgent, stopAgent } from '../../e2e/support/agent.ts';
import type { AgentProcess } from '../../e2e/support/agent.ts';
import { deleteKeys, keysOf } from '../../integration/support/redis.ts';
import { parseScrape, readProbe } from './metrics.ts';
import { writeReport } from './report.ts';
import type { Sample } from './report.ts';
import { checkCatalog } from './verdict.ts';
import type { RunOutcome } from './verdict.ts';

const LAUNCHER = fileURLToPath(new URL('../../../bin/perimeter.js', import.meta.url));
const PROBE = fileURLToPath(new URL('./probe.ts', import.meta.url));
const CONNECTORS = ['cyera', 'cyral', 'anaplan'] as const;
const SCRAPE_EVERY_MS = 5_000;
const HEAP_PROBE_EVERY = 2;
const TICK_MS = 200;
const MIB = 1024 * 1024;
/** The last runs get this long to finish once no more are issued. */
const DRAIN_RUNS_MS = 120_000;
/** `queue.concurrency` is left at its default (4); two runs of one connection at once. */
const RUNS_PER_CONNECTION = 2;
/** `queue.concurrency`'s default; the runner keeps twice as many runs issued and not ended. */
const QUEUE_CONCURRENCY = 4;
/**
 * Each connection's request budget: the connectors' own defaults (5–10 requests/s) protect real
 * services and would hold the agent mostly idle here; the simulators on loopback take far more.
 */
const RATE_LIMIT = { requestsPerSecond: 200, burst: 50 };
/** Moderate tenants: a run takes a second or a few on a shared two-core machine. */
const SIZES: StageSizes = {
  cyera: {
    datastores: 2,
    databasesPerDatastore: 2,
    schemasPerDatabase: 2,
    tablesPerSchema: 8,
    columnsPerTable: 10,
    issuesPerDatastore: 20,
    identitiesPerDatastore: 10,
  },
  cyral: { sidecars: 2, repos: 6 },
  anaplan: {
    workspaces: 1,
    modelsPerWorkspace: 2,
    modulesPerModel: 5,
    lineItemsPerModule: 40,
    archived: 1,
  },
};

const { values: args } = parseArgs({
  options: {
    minutes: { type: 'string', default: '4' },
    'max-runs': { type: 'string', default: '5000' },
  },
});
const minutes = Number(args.minutes);
const maxRuns = Number(args['max-runs']);
if (!(minutes > 0 && minutes <= 60) || !(Number.isInteger(maxRuns) && maxRuns > 0)) {
  throw new Error('--minutes must be in (0, 60] and --max-runs a positive integer');
}

const say = (text: string): void => {
  process.stdout.write(`${text}\n`);
};

const redisFound = await findRedis(process.env);
if (typeof redisFound === 'string') {
  throw new Error(`the load run needs Redis: ${redisFound}`);
}
const dir = mkdtempSync(join(tmpdir(), 'perimeter-load-'));
const prefix = `perimeter-load-${String(process.pid)}-${String(Date.now())}`;
const probeFile = join(dir, 'probe.ndjson');
const stage = await setStage({
  dir,
  redisUrl: redisFound.url,
  prefix,
  sizes: SIZES,
  configure: (config) => {
    const queue = config['queue'] as Record<string, unknown>;
    delete queue['concurrency'];
    const policy = config['policy'] as { connectors: Record<string, Record<string, unknown>> };
    for (const settings of Object.values(policy.connectors)) {
      settings['maxConcurrentRunsPerConnection'] = RUNS_PER_CONNECTION;
    }
    for (const connection of Object.values(config['connections'] as Record<string, object>)) {
      Object.assign(connection, { rateLimit: RATE_LIMIT });
    }
  },
});
const redis = new Redis(redisFound.url);
let agent: AgentProcess | undefined;
let passed: boolean;
try {
  agent = await spawnAgent({
    name: 'perimeter start',
    configPath: stage.configPath,
    entry: LAUNCHER,
    // The machine may be busy: a slow start is not what this run measures.
    startTimeoutMs: 120_000,
    env: {
      ...stage.env,
      NODE_OPTIONS: `--expose-gc --import ${PROBE}`,
      LOAD_PROBE_FILE: probeFile,
    },
  });
  passed = await drive(agent);
} finally {
  await stopAgent(agent);
  await deleteKeys(redis, prefix);
  redis.disconnect();
  await stage.close();
  await redisFound.close();
  rmSync(dir, { recursive: true, force: true });
}
process.exitCode = passed ? 0 : 1;

async function drive(running: AgentProcess): Promise<boolean> {
  const { controlPlane, catalog } = stage;
  const startMs = Date.now();
  const deadlineMs = startMs + minutes * 60_000;
  const inFlight = new Map<string, string>();
  const outcomes: RunOutcome[] = [];
  const samples: Sample[] = [];
  const heapPoints: { tMs: number; liveHeapBytes: number }[] = [];
  let issued = 0;
  let lastIssuedMs: number | undefined;
  let scrapes = 0;
  const scrape = async (): Promise<void> => {
    const text = (await running.get('/metrics')).text;
    samples.push({ tMs: Date.now() - startMs, runsIssued: issued, ...parseScrape(text) });
    scrapes += 1;
    if (scrapes % HEAP_PROBE_EVERY === 0) {
      running.child.kill('SIGUSR2');
    }
  };
  say(
    `Load: ${String(minutes)} min or ${String(maxRuns)} runs across ${CONNECTORS.join(', ')}; agent ${String(running.child.pid)}, health 127.0.0.1:${String(running.healthPort)}`,
  );
  let nextScrapeMs = startMs;
  let lastReportMs = startMs;
  const settle = (): void => {
    for (const [runId, connector] of inFlight) {
      const end = controlPlane.records
        .runEvents(runId)
        .find((e) => e.type === 'succeeded' || e.type === 'failed' || e.type === 'cancelled');
      if (end !== undefined) {
        inFlight.delete(runId);
        const code = (end['error'] as { code?: string } | undefined)?.code ?? end['code'];
        outcomes.push({
          runId,
          connector,
          outcome: end.type as RunOutcome['outcome'],
          ...(typeof code === 'string' ? { code } : {}),
        });
      }
    }
  };
  while (Date.now() < deadlineMs + DRAIN_RUNS_MS) {
    settle();
    const issuing = Date.now() < deadlineMs && issued < maxRuns;
    if (!issuing) {
      lastIssuedMs ??= Date.now() - startMs;
    }
    if (!issuing && inFlight.size === 0) {
      break;
    }
    const batch = [];
    while (issuing && inFlight.size < 2 * QUEUE_CONCURRENCY && issued < maxRuns) {
      const connector = CONNECTORS[issued % CONNECTORS.length] ?? 'cyera';
      const runId = `load-${connector}-${String(issued).padStart(5, '0')}`;
      batch.push(controlPlane.signer.sign(runDraft({ runId, connectionId: connector })));
      inFlight.set(runId, connector);
      issued += 1;
    }
    if (batch.length > 0) {
      controlPlane.issue(batch, AGENT_ID);
    }
    if (Date.now() >= nextScrapeMs) {
      nextScrapeMs += SCRAPE_EVERY_MS;
      await scrape();
    }
    if (Date.now() - lastReportMs >= 30_000) {
      lastReportMs = Date.now();
      const last = samples.at(-1);
      say(
        `  ${((Date.now() - startMs) / 60_000).toFixed(1)} min: ${String(issued)} issued, ${String(outcomes.length)} ended, RSS ${mib(last?.rssBytes)} MiB, heap ${mib(last?.heapUsedBytes)} MiB, lag p99 ${ms(last?.lagSeconds)} ms`,
      );
    }
    await sleep(TICK_MS);
  }
  const loadEndMs = Date.now() - startMs;
  await scrape();
  running.child.kill('SIGUSR2');
  await sleep(1_000);
  for (const [runId, connector] of inFlight) {
    outcomes.push({ runId, connector, outcome: 'unaccounted' });
  }
  const catalogCheck = checkCatalog(catalog, outcomes);
  const status = (await running.get('/status')).body;
  const drainStartMs = Date.now();
  running.kill('SIGTERM');
  const exit = await running.exited;
  const drainMs = Date.now() - drainStartMs;
  const probe = readProbe(probeFile);
  for (const record of probe) {
    if (record.kind === 'heap') {
      heapPoints.push({ tMs: record.atMs - startMs, liveHeapBytes: record.liveHeapBytes });
    }
  }
  const exitRecord = probe.filter((r) => r.kind === 'exit').at(-1);
  const openAtExit = exitRecord?.kind === 'exit' ? exitRecord.resources : ['(no exit record)'];
  const leftKeys = (await keysOf(redis, prefix)).length;

  return writeReport({
    settings: {
      minutes,
      maxRuns,
      queueConcurrency: QUEUE_CONCURRENCY,
      runsPerConnection: RUNS_PER_CONNECTION,
      rateLimit: RATE_LIMIT,
      sizes: SIZES,
      scrapeEveryMs: SCRAPE_EVERY_MS,
      liveHeapEveryMs: SCRAPE_EVERY_MS * HEAP_PROBE_EVERY,
    },
    samples,
    heapPoints,
    outcomes,
    issued,
    lastIssuedMs,
    loadEndMs,
    catalogCheck,
    status,
    exit,
    drainMs,
    openAtExit,
    leftKeys,
    say,
  });
}

function mib(bytes: number | undefined): string {
  return bytes === undefined ? '?' : (bytes / MIB).toFixed(1);
}

function ms(seconds: number | undefined): string {
  return seconds === undefined ? '?' : (seconds * 1000).toFixed(1);
}

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
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { runDraft } from '../../fakes/control-plane/server.ts';
import { setStage } from '../../demo/daemon/stage.ts';
import type { StageSizes } from '../../demo/daemon/stage.ts';
import { findRedis } from '../../demo/daemon/redis.ts';
import { spawnAgent, stopAgent } from '../../e2e/support/agent.ts';
import type { AgentProcess } from '../../e2e/support/agent.ts';
import { deleteKeys, keysOf } from '../../integration/support/redis.ts';
import { memoryChart } from './chart.ts';
import { parseScrape, readProbe } from './metrics.ts';
import type { Scrape } from './metrics.ts';
import { MEMORY_TOLERANCE, checkCatalog, firstVersusLast, median } from './verdict.ts';
import type { RunOutcome } from './verdict.ts';

const LAUNCHER = fileURLToPath(new URL('../../../bin/perimeter.js', import.meta.url));
const PROBE = fileURLToPath(new URL('./probe.ts', import.meta.url));
const RESULTS_DIR = fileURLToPath(new URL('../../../docs/reliability/', import.meta.url));
const CONNECTORS = ['cyera', 'cyral', 'anaplan'] as const;
const SCRAPE_EVERY_MS = 5_000;
const HEAP_PROBE_EVERY = 2;
const TICK_MS = 200;
const MIB = 1024 * 1024;
/** The last runs get this long to finish once no more are issued. */
const DRAIN_RUNS_MS = 120_000;
/** `queue.concurrency` is left at its default (4); two runs of one connection at once. */
const RUNS_PER_CONNECTION = 2;
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

interface Sample extends Scrape {
  readonly tMs: number;
  readonly runsIssued: number;
}

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
  const agentId = 'demo-agent';
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
  const window = 2 * 4;
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
    while (issuing && inFlight.size < window && issued < maxRuns) {
      const connector = CONNECTORS[issued % CONNECTORS.length] ?? 'cyera';
      const runId = `load-${connector}-${String(issued).padStart(5, '0')}`;
      batch.push(controlPlane.signer.sign(runDraft({ runId, connectionId: connector })));
      inFlight.set(runId, connector);
      issued += 1;
    }
    if (batch.length > 0) {
      controlPlane.issue(batch, agentId);
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

  const loadSamples = samples.filter((s) => s.tMs <= loadEndMs);
  const rss = firstVersusLast(
    loadSamples.map((s) => ({ tMs: s.tMs, value: s.rssBytes })),
    loadEndMs,
  );
  const liveHeap = firstVersusLast(
    heapPoints
      .filter((p) => p.tMs <= loadEndMs)
      .map((p) => ({ tMs: p.tMs, value: p.liveHeapBytes })),
    loadEndMs,
  );
  const heapUsed = firstVersusLast(
    loadSamples.map((s) => ({ tMs: s.tMs, value: s.heapUsedBytes })),
    loadEndMs,
  );
  const lags = loadSamples.slice(1).map((s) => s.lagSeconds * 1000);
  const count = (o: RunOutcome['outcome']): number =>
    outcomes.filter((run) => run.outcome === o).length;
  const totalAssets = Object.values(catalogCheck.assetsByConnector).reduce((a, b) => a + b, 0);
  const accounted = outcomes.length === issued && count('unaccounted') === 0;
  const exactlyOnce =
    catalogCheck.namesOffCount === 0 &&
    catalogCheck.runsMismatched.length === 0 &&
    catalogCheck.conflicts === 0;
  const criteria = {
    everyRunAccounted: accounted,
    everyRunSucceeded: count('succeeded') === issued,
    everyAssetExactlyOnce: exactlyOnce,
    rssFlat: rss.ok,
    liveHeapFlat: liveHeap.ok,
    drainedToExit0: exit.code === 0,
    nothingOpenAtExit: openAtExit.length === 0,
  };
  const results = {
    generatedBy: 'npm run test:load',
    date: new Date().toISOString(),
    machine: { cpus: (await import('node:os')).cpus().length, node: process.version },
    settings: {
      minutes,
      maxRuns,
      queueConcurrency: 4,
      runsPerConnection: RUNS_PER_CONNECTION,
      rateLimit: RATE_LIMIT,
      sizes: SIZES,
      scrapeEveryMs: SCRAPE_EVERY_MS,
      liveHeapEveryMs: SCRAPE_EVERY_MS * HEAP_PROBE_EVERY,
      memoryTolerance: MEMORY_TOLERANCE,
    },
    durationSeconds: round(loadEndMs / 1000),
    issuingSeconds: round((lastIssuedMs ?? loadEndMs) / 1000),
    runs: {
      issued,
      succeeded: count('succeeded'),
      failed: count('failed'),
      cancelled: count('cancelled'),
      unaccounted: count('unaccounted'),
      failures: outcomes.filter((r) => r.outcome !== 'succeeded').slice(0, 20),
      byConnector: Object.fromEntries(
        CONNECTORS.map((c) => [
          c,
          outcomes.filter((r) => r.connector === c && r.outcome === 'succeeded').length,
        ]),
      ),
    },
    assets: {
      total: totalAssets,
      perSecond: round(totalAssets / (loadEndMs / 1000)),
      byConnector: catalogCheck.assetsByConnector,
      perRun: Object.fromEntries(
        Object.entries(catalogCheck.assetsPerRun).map(([c, counts]) => [c, counts[0] ?? 0]),
      ),
      qualifiedNamesOffCount: catalogCheck.namesOffCount,
      runsMismatched: catalogCheck.runsMismatched.slice(0, 20),
      conflicts: catalogCheck.conflicts,
      duplicateBatchesDropped: catalogCheck.duplicateBatches,
      agentCountedAssets: samples.at(-1)?.assets ?? 0,
    },
    memory: {
      rssMiB: {
        firstMinuteMedian: mibN(rss.first),
        lastMinuteMedian: mibN(rss.last),
        ratio: round(rss.ratio, 3),
      },
      liveHeapAfterGcMiB: {
        firstMinuteMedian: mibN(liveHeap.first),
        lastMinuteMedian: mibN(liveHeap.last),
        ratio: round(liveHeap.ratio, 3),
      },
      heapUsedMiB: {
        firstMinuteMedian: mibN(heapUsed.first),
        lastMinuteMedian: mibN(heapUsed.last),
        ratio: round(heapUsed.ratio, 3),
      },
      peakRssMiB: mibN(Math.max(...loadSamples.map((s) => s.rssBytes))),
    },
    eventLoopLagMs: {
      medianOfP99: round(median(lags), 1),
      maxOfP99: round(Math.max(0, ...lags), 1),
    },
    shutdown: {
      exitCode: exit.code,
      drainMs,
      openResourcesAtExit: openAtExit,
      activeHandlesBeforeDrain: samples.at(-1)?.activeHandles ?? 0,
      redisKeysUnderPrefix: leftKeys,
      activeRunsBeforeDrain: (status as { activeRuns?: unknown[] }).activeRuns?.length ?? 0,
    },
    criteria,
    passed: Object.values(criteria).every(Boolean),
    samples: samples.map((s) => ({
      tSeconds: round(s.tMs / 1000, 1),
      rssMiB: mibN(s.rssBytes),
      heapUsedMiB: mibN(s.heapUsedBytes),
      lagP99Ms: round(s.lagSeconds * 1000, 1),
      runsIssued: s.runsIssued,
      runsSucceeded: s.runsSucceeded,
      runsFailed: s.runsFailed,
      assets: s.assets,
    })),
    liveHeap: heapPoints.map((p) => ({
      tSeconds: round(p.tMs / 1000, 1),
      liveHeapMiB: mibN(p.liveHeapBytes),
    })),
  };
  mkdirSync(RESULTS_DIR, { recursive: true });
  writeFileSync(join(RESULTS_DIR, 'load-results.json'), `${JSON.stringify(results, null, 2)}\n`);
  writeFileSync(
    join(RESULTS_DIR, 'load-memory.svg'),
    memoryChart({
      marker: { x: (lastIssuedMs ?? loadEndMs) / 60_000, label: 'last run issued' },
      title: `Agent memory under load: ${String(count('succeeded'))} runs in ${(loadEndMs / 60_000).toFixed(1)} min`,
      series: [
        {
          label: 'RSS',
          colour: '#1f77b4',
          points: loadSamples.map((s) => [s.tMs / 60_000, s.rssBytes / MIB]),
        },
        {
          label: 'heap used',
          colour: '#ff7f0e',
          points: loadSamples.map((s) => [s.tMs / 60_000, s.heapUsedBytes / MIB]),
        },
        {
          label: 'live heap after full GC',
          colour: '#2ca02c',
          points: heapPoints
            .filter((p) => p.tMs <= loadEndMs)
            .map((p) => [p.tMs / 60_000, p.liveHeapBytes / MIB]),
        },
      ],
    }),
  );
  say(
    `Runs: ${String(issued)} issued, ${String(count('succeeded'))} succeeded, ${String(count('failed'))} failed, ${String(count('unaccounted'))} unaccounted`,
  );
  say(
    `Assets: ${String(totalAssets)} (${String(results.assets.perSecond)}/s); names off count ${String(catalogCheck.namesOffCount)}, runs mismatched ${String(catalogCheck.runsMismatched.length)}, conflicts ${String(catalogCheck.conflicts)}`,
  );
  say(
    `RSS median ${String(mibN(rss.first))} → ${String(mibN(rss.last))} MiB (×${rss.ratio.toFixed(3)}); live heap ${String(mibN(liveHeap.first))} → ${String(mibN(liveHeap.last))} MiB (×${liveHeap.ratio.toFixed(3)}); tolerance ×${String(MEMORY_TOLERANCE)}`,
  );
  say(
    `Lag p99 median ${String(results.eventLoopLagMs.medianOfP99)} ms, max ${String(results.eventLoopLagMs.maxOfP99)} ms; exit ${String(exit.code)} after ${String(drainMs)} ms; open at exit: ${openAtExit.length === 0 ? 'nothing' : openAtExit.join(', ')}`,
  );
  say(`${results.passed ? 'PASSED' : 'FAILED'}: ${JSON.stringify(criteria)}`);
  say(`Results: docs/reliability/load-results.json, docs/reliability/load-memory.svg`);
  return results.passed;
}

function mib(bytes: number | undefined): string {
  return bytes === undefined ? '?' : (bytes / MIB).toFixed(1);
}

function mibN(bytes: number): number {
  return round(bytes / MIB, 1);
}

function ms(seconds: number | undefined): string {
  return seconds === undefined ? '?' : (seconds * 1000).toFixed(1);
}

function round(value: number, digits = 0): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

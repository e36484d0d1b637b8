// What the load run writes once it ended: the results (docs/reliability/load-results.json), the
// memory chart (docs/reliability/load-memory.svg) and a summary on stdout; and whether it passed.
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { memoryChart } from './chart.ts';
import type { Scrape } from './metrics.ts';
import { MEMORY_TOLERANCE, firstVersusLast, median } from './verdict.ts';
import type { CatalogCheck, RunOutcome } from './verdict.ts';

const RESULTS_DIR = fileURLToPath(new URL('../../../docs/reliability/', import.meta.url));
const MIB = 1024 * 1024;

/** One scrape of /metrics, at `tMs` since the first run was issued. */
export interface Sample extends Scrape {
  readonly tMs: number;
  readonly runsIssued: number;
}

/** Everything the load run recorded. */
export interface Recorded {
  readonly settings: Record<string, unknown>;
  readonly samples: readonly Sample[];
  readonly heapPoints: readonly { tMs: number; liveHeapBytes: number }[];
  readonly outcomes: readonly RunOutcome[];
  readonly issued: number;
  readonly lastIssuedMs: number | undefined;
  readonly loadEndMs: number;
  readonly catalogCheck: CatalogCheck;
  readonly status: unknown;
  readonly exit: { readonly code: number | null };
  readonly drainMs: number;
  readonly openAtExit: readonly string[];
  readonly leftKeys: number;
  readonly say: (text: string) => void;
}

/** Writes the results and the chart, prints the summary; true when every criterion holds. */
export function writeReport(recorded: Recorded): boolean {
  const {
    settings,
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
  } = recorded;
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
    machine: { cpus: cpus().length, node: process.version },
    settings: { ...settings, memoryTolerance: MEMORY_TOLERANCE },
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
        [...new Set(outcomes.map((r) => r.connector))].map((c) => [
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

function mibN(bytes: number): number {
  return round(bytes / MIB, 1);
}

function round(value: number, digits = 0): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

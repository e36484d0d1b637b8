// The load run's pass criteria, as pure functions of what it recorded.
import type { CatalogReceiver } from '../../fakes/catalog-receiver.ts';

/** How much higher the last minute's median may be than the first minute's. */
export const MEMORY_TOLERANCE = 1.15;

/** A value at a time (ms since the first run was issued). */
export interface Point {
  readonly tMs: number;
  readonly value: number;
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) {
    return Number.NaN;
  }
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[mid] ?? Number.NaN)
    : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

/** Median of the first minute, of the last minute (ending at `endMs`), and their ratio. */
export function firstVersusLast(
  points: readonly Point[],
  endMs: number,
): { first: number; last: number; ratio: number; ok: boolean } {
  const first = median(points.filter((p) => p.tMs < 60_000).map((p) => p.value));
  const last = median(points.filter((p) => p.tMs >= endMs - 60_000).map((p) => p.value));
  const ratio = last / first;
  return { first, last, ratio, ok: ratio <= MEMORY_TOLERANCE };
}

/** One issued run and how it ended (from the control plane's record of its events). */
export interface RunOutcome {
  readonly runId: string;
  readonly connector: string;
  readonly outcome: 'succeeded' | 'failed' | 'cancelled' | 'unaccounted';
  readonly code?: string;
}

/** What the catalog holds, checked against the runs: every asset exactly once per run. */
export interface CatalogCheck {
  /** Assets stored, per connector. */
  readonly assetsByConnector: Record<string, number>;
  /** Assets per succeeded run, per connector (every run of a connector sees the same tenant). */
  readonly assetsPerRun: Record<string, number[]>;
  /** qualifiedNames stored more or fewer times than that connector's succeeded runs. */
  readonly namesOffCount: number;
  /** Succeeded runs whose stored assets differ from what their `complete` call declared. */
  readonly runsMismatched: string[];
  /** Repeated batch keys with different content. */
  readonly conflicts: number;
  /** Batches re-sent and answered 200 (harmless; dropped by idempotency key). */
  readonly duplicateBatches: number;
}

/** Checks the catalog against the succeeded runs. */
export function checkCatalog(
  catalog: Pick<
    CatalogReceiver,
    'assetCounts' | 'batches' | 'completes' | 'conflicts' | 'duplicates'
  >,
  runs: readonly RunOutcome[],
): CatalogCheck {
  const succeeded = runs.filter((run) => run.outcome === 'succeeded');
  const runsOf = new Map<string, number>();
  for (const run of succeeded) {
    runsOf.set(run.connector, (runsOf.get(run.connector) ?? 0) + 1);
  }
  const assetsByConnector: Record<string, number> = {};
  let namesOffCount = 0;
  for (const [name, count] of catalog.assetCounts()) {
    const connector = name.split('/')[0] ?? '';
    assetsByConnector[connector] = (assetsByConnector[connector] ?? 0) + count;
    if (count !== (runsOf.get(connector) ?? 0)) {
      namesOffCount += 1;
    }
  }
  const storedByRun = new Map<string, number>();
  for (const batch of catalog.batches()) {
    storedByRun.set(batch.runId, (storedByRun.get(batch.runId) ?? 0) + batch.assets);
  }
  const declared = new Map(catalog.completes.map((call) => [call.runId, call.assets]));
  const assetsPerRun: Record<string, number[]> = {};
  const runsMismatched: string[] = [];
  for (const run of succeeded) {
    const stored = storedByRun.get(run.runId) ?? 0;
    (assetsPerRun[run.connector] ??= []).push(stored);
    if (declared.get(run.runId) !== stored) {
      runsMismatched.push(run.runId);
    }
  }
  for (const [connector, counts] of Object.entries(assetsPerRun)) {
    const expected = counts[0];
    for (const [index, count] of counts.entries()) {
      if (count !== expected) {
        runsMismatched.push(`${connector} run #${String(index)}: ${String(count)} assets`);
      }
    }
  }
  return {
    assetsByConnector,
    assetsPerRun,
    namesOffCount,
    runsMismatched,
    conflicts: catalog.conflicts.length,
    duplicateBatches: catalog.duplicates,
  };
}

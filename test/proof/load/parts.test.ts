// The load run's own parts: what it reads from the agent, how it judges it, how it draws it.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CatalogStore } from '../../fakes/catalog/store.ts';
import { tempDir } from '../../helpers/temp-dir.ts';
import { memoryChart } from './chart.ts';
import { parseScrape, readProbe } from './metrics.ts';
import { checkCatalog, firstVersusLast, median } from './verdict.ts';
import type { RunOutcome } from './verdict.ts';

describe('parseScrape', () => {
  it('sums labelled series, splits runs by outcome and skips comments', () => {
    const scrape = parseScrape(
      [
        '# HELP perimeter_runs_total Runs by outcome.',
        '# TYPE perimeter_runs_total counter',
        'perimeter_runs_total{connector="cyera",outcome="succeeded"} 7',
        'perimeter_runs_total{connector="cyral",outcome="succeeded"} 3',
        'perimeter_runs_total{connector="cyral",outcome="failed"} 2',
        'perimeter_runs_total{connector="anaplan",outcome="cancelled"} 1',
        'perimeter_assets_total{connector="cyera"} 1000',
        'perimeter_assets_total{connector="cyral"} 250',
        'perimeter_process_resident_memory_bytes 123456789',
        'perimeter_event_loop_lag_seconds{quantile="0.99"} 0.012',
        '',
      ].join('\n'),
    );
    expect(scrape).toEqual({
      rssBytes: 123_456_789,
      heapUsedBytes: 0,
      lagSeconds: 0.012,
      runsSucceeded: 10,
      runsFailed: 3,
      assets: 1_250,
      activeHandles: 0,
    });
  });
});

describe('readProbe', () => {
  it('reads every record written so far, and nothing from a file not yet written', () => {
    const path = join(tempDir('load-probe'), 'probe.ndjson');
    expect(readProbe(path)).toEqual([]);
    const heap = { kind: 'heap', atMs: 60_000, liveHeapBytes: 30e6, rssBytes: 200e6 };
    const exit = { kind: 'exit', atMs: 250_000, code: 0, resources: [] };
    writeFileSync(path, `${JSON.stringify(heap)}\n${JSON.stringify(exit)}\n`);
    expect(readProbe(path)).toEqual([heap, exit]);
  });
});

describe('firstVersusLast', () => {
  const points = (first: number, last: number): { tMs: number; value: number }[] =>
    Array.from({ length: 24 }, (_, index) => ({
      tMs: index * 10_000,
      value: index < 6 ? first : last,
    }));

  it('compares the first minute with the last and passes up to 1.15×', () => {
    expect(firstVersusLast(points(100, 115), 240_000)).toMatchObject({
      first: 100,
      last: 115,
      ok: true,
    });
    expect(firstVersusLast(points(100, 116), 240_000)).toMatchObject({ ratio: 1.16, ok: false });
  });

  it('takes medians, so one spike in a minute does not decide', () => {
    expect(median([1, 100, 2])).toBe(2);
    expect(median([1, 2, 3, 100])).toBe(2.5);
    expect(median([])).toBeNaN();
  });
});

describe('checkCatalog', () => {
  const put = (store: CatalogStore, runId: string, seq: number, names: string[]): void => {
    store.put({ runId, seq, raw: `${runId}:${seq}` }, Buffer.from(names.join('\n')), names);
  };
  const succeeded = (runId: string, connector: string): RunOutcome => ({
    runId,
    connector,
    outcome: 'succeeded',
  });

  it('passes runs that each stored every asset once, as their complete call declared', () => {
    const store = new CatalogStore();
    for (const runId of ['r1', 'r2']) {
      put(store, runId, 0, ['cyera/a', 'cyera/b']);
      put(store, runId, 1, ['cyera/c']);
      store.completes.push({ runId, assets: 3, batches: 2 });
    }
    put(store, 'r1', 1, ['cyera/c']); // a re-sent batch, same content: harmless
    const check = checkCatalog(store, [succeeded('r1', 'cyera'), succeeded('r2', 'cyera')]);
    expect(check).toEqual({
      assetsByConnector: { cyera: 6 },
      assetsPerRun: { cyera: [3, 3] },
      namesOffCount: 0,
      runsMismatched: [],
      conflicts: 0,
      duplicateBatches: 1,
    });
  });

  it('names a run that lost a batch, and a name stored fewer times than runs succeeded', () => {
    const store = new CatalogStore();
    put(store, 'r1', 0, ['cyral/a', 'cyral/b']);
    store.completes.push({ runId: 'r1', assets: 2, batches: 1 });
    put(store, 'r2', 0, ['cyral/a']);
    store.completes.push({ runId: 'r2', assets: 2, batches: 1 });
    const check = checkCatalog(store, [succeeded('r1', 'cyral'), succeeded('r2', 'cyral')]);
    expect(check.namesOffCount).toBe(1);
    expect(check.runsMismatched).toEqual(['r2', 'cyral run #1: 1 assets']);
  });
});

describe('memoryChart', () => {
  it('draws each series inside the plot on a round scale, with its legend and an escaped title', () => {
    const svg = memoryChart({
      title: 'RSS <agent> & heap',
      series: [
        {
          label: 'RSS',
          colour: '#c00',
          points: [
            [0, 200],
            [2, 437],
            [4, 410],
          ],
        },
        {
          label: 'live heap',
          colour: '#00c',
          points: [
            [0, 30],
            [4, 31],
          ],
        },
      ],
      marker: { x: 3, label: 'last run issued' },
    });
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg).toContain('RSS &lt;agent&gt; &amp; heap');
    // 437 MiB rounds the axis up to 500, in fifths.
    expect(svg).toMatch(/>500<\/text>/);
    expect(svg).toMatch(/>100<\/text>/);
    const polylines = [...svg.matchAll(/<polyline[^>]*points="([^"]*)"/g)].map((m) => m[1] ?? '');
    expect(polylines).toHaveLength(2);
    for (const coordinates of polylines.flatMap((p) => p.split(' '))) {
      const [x, y] = coordinates.split(',').map(Number);
      expect(x).toBeGreaterThanOrEqual(64);
      expect(x).toBeLessThanOrEqual(800 - 24);
      expect(y).toBeGreaterThanOrEqual(48);
      expect(y).toBeLessThanOrEqual(420 - 72);
    }
    expect(svg).toContain('last run issued');
    expect(svg).toContain('>live heap</text>');
  });
});

// Peak RSS of the catalog sink for 10k vs 100k assets: `node bench/sink-memory.ts [sizes...]`.
//
// Each size runs in a child process of its own (so one run's heap cannot hide another's), which
// pushes a synthetic stream through the real catalog sink and HTTP client to a catalog receiver
// living in this parent process, then reports `process.resourceUsage().maxRSS`. A flat figure
// between sizes is the point: batches in memory are bounded by (maxInFlightBatches + 1) ×
// batchMaxBytes, whatever the source's size. Figures go to docs, not to asserts.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { coerceError } from '../agent/plugin-api/index.ts';
import { syntheticAsset } from '../test/fakes/catalog/assets.ts';
import { catalogSinkHarness, pagedStream, pushRun } from '../test/fakes/catalog/sink-harness.ts';
import { startCatalogReceiver } from '../test/fakes/catalog-receiver.ts';

interface Measurement {
  readonly assets: number;
  readonly batches: number;
  readonly maxRssMiB: number;
  /** Heap still live after a full GC at the end: flat when nothing grows with the run. */
  readonly liveHeapMiB: number;
  readonly durationMs: number;
}

/** Asset counts measured; `node bench/sink-memory.ts 10000 300000` measures others. */
const DEFAULT_SIZES = [0, 10_000, 100_000];

async function child(assets: number, url: string): Promise<void> {
  const started = performance.now();
  const { sink } = catalogSinkHarness({ catalog: { url } });
  const result = await pushRun(sink, {
    runId: `bench-${assets}`,
    events: pagedStream(0, assets, 100, (index) => syntheticAsset(index)),
  });
  await sink.close();
  if (result.error !== undefined) {
    throw coerceError(result.error);
  }
  (globalThis as { gc?: () => void }).gc?.();
  const measurement: Measurement = {
    assets,
    batches: result.summary?.batches ?? 0,
    maxRssMiB: Math.round(process.resourceUsage().maxRSS / 1024),
    liveHeapMiB: Math.round(process.memoryUsage().heapUsed / 1024 / 1024),
    durationMs: Math.round(performance.now() - started),
  };
  process.stdout.write(`${JSON.stringify(measurement)}\n`);
}

async function parent(sizes: readonly number[]): Promise<void> {
  const receiver = await startCatalogReceiver();
  const script = fileURLToPath(import.meta.url);
  try {
    const rows: Measurement[] = [];
    for (const assets of sizes) {
      // One at a time, asynchronously: the receiver in this process must keep answering.
      rows.push(await runChild(script, assets, receiver.url));
    }
    console.log('| assets | batches | peak RSS (MiB) | live heap after GC (MiB) | duration (ms) |');
    console.log('|---:|---:|---:|---:|---:|');
    for (const row of rows) {
      console.log(
        `| ${row.assets} | ${row.batches} | ${row.maxRssMiB} | ${row.liveHeapMiB} | ${row.durationMs} |`,
      );
    }
  } finally {
    await receiver.close();
  }
}

function runChild(script: string, assets: number, url: string): Promise<Measurement> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ['--expose-gc', script, 'child', String(assets), url],
      (error: Error | null, stdout: string) => {
        if (error !== null) {
          reject(error);
          return;
        }
        resolve(JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as Measurement);
      },
    );
  });
}

const [mode, assets, url] = process.argv.slice(2);
if (mode === 'child' && assets !== undefined && url !== undefined) {
  await child(Number(assets), url);
} else {
  const sizes = process.argv.slice(2).map(Number);
  await parent(sizes.length > 0 && sizes.every(Number.isSafeInteger) ? sizes : DEFAULT_SIZES);
}

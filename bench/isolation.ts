// `npm run bench:isolation`: what running each run in a capped thread costs. A Cyera
// `perimeter run` of COLUMNS columns, launched as a user launches it, with `queue.isolation:
// thread` and `none` alternately against one simulator (in a process of its own), each round
// pushing to a fresh catalog receiver. Reported as medians per mode: CPU µs per column (all
// threads, and the main thread alone), wall throughput, and peak RSS. docs/performance.md has
// the figures.
//
//   node bench/isolation.ts [--columns N] [--rounds N]
//
// Nothing here is asserted.
import { cyeraJob, measureAgentRun } from './agent-run.ts';
import type { AgentRunFigures } from './agent-run.ts';
import { startService } from './services.ts';
import { median } from './stats.ts';

const args = process.argv.slice(2);
const flag = (name: string): string | undefined => {
  const index = args.indexOf(name);
  return index === -1 ? undefined : args[index + 1];
};
const columns = Number(flag('--columns') ?? 1_000_000);
const rounds = Number(flag('--rounds') ?? 3);
const MODES = ['thread', 'none'] as const;

const source = await startService('cyera', { columns });
const figures = new Map<string, (AgentRunFigures & { assets: number })[]>(
  MODES.map((mode) => [mode, []]),
);
try {
  for (let round = 0; round < rounds; round += 1) {
    // Alternate which mode goes first, so drift on a busy machine hits both alike.
    const order = round % 2 === 0 ? MODES : [...MODES].reverse();
    for (const mode of order) {
      const catalog = await startService('catalog');
      try {
        const run = await measureAgentRun(
          { ...cyeraJob(source.info), queue: { isolation: mode } },
          String(catalog.info['url']),
          `bench-isolation-${mode}-${round}`,
        );
        const assets = (await catalog.stats())['assets'] ?? 0;
        figures.get(mode)?.push({ ...run, assets });
        process.stderr.write(
          `round ${round + 1}/${rounds} ${mode}: ${run.cpuSeconds.toFixed(2)} s CPU, ${(run.peakRssBytes / 2 ** 20).toFixed(0)} MiB peak RSS, ${assets} assets\n`,
        );
      } finally {
        await catalog.close();
      }
    }
  }
} finally {
  await source.close();
}

const row = (mode: string): string => {
  const runs = figures.get(mode) ?? [];
  const micros = (seconds: number): string => ((seconds / columns) * 1e6).toFixed(2);
  return [
    mode,
    runs.length,
    micros(median(runs.map((r) => r.cpuSeconds))),
    micros(median(runs.map((r) => r.mainThreadCpuSeconds))),
    Math.round(median(runs.map((r) => columns / r.wallSeconds))).toLocaleString('en'),
    `${Math.round(Math.max(...runs.map((r) => r.peakRssBytes)) / 2 ** 20)} MiB`,
    median(runs.map((r) => r.assets)).toLocaleString('en'),
  ].join(' | ');
};
process.stdout.write(
  [
    `Node ${process.version}, ${new Date().toISOString().slice(0, 16)}Z, Cyera ${columns.toLocaleString('en')} columns`,
    '',
    '| isolation | rounds | CPU µs/column | main thread CPU µs/column | columns/s | peak RSS | assets |',
    '|---|---:|---:|---:|---:|---:|---:|',
    `| ${row('thread')} |`,
    `| ${row('none')} |`,
    '',
  ].join('\n'),
);

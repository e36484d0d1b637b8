// Runs `perimeter run` as a child process against a simulated source and the catalog receiver
// (both in this process), so the child's peak RSS is the agent's alone.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startCatalogReceiver } from '../test/fakes/catalog-receiver.ts';

/** One measured run. */
export interface AgentRunFigures {
  readonly assets: number;
  readonly durationMs: number;
  readonly assetsPerSecond: number;
  readonly peakRssMiB: number;
}

/** What to run: the job's connector and connection, and the env its references read. */
export interface AgentRunJob {
  readonly connector: string;
  readonly connection: Record<string, unknown>;
  readonly params?: Record<string, unknown>;
  readonly env: Record<string, string>;
  /** Hosts to allow. @default the host of `connection.baseUrl` */
  readonly allowHosts?: readonly string[];
}

const AGENT = fileURLToPath(new URL('../test/helpers/fixture-agent.ts', import.meta.url));
const PRELOAD = fileURLToPath(new URL('./peak-rss.ts', import.meta.url));

/** Runs the job once in a fresh agent process; `maxOldSpaceMiB` caps the V8 heap. */
export async function measureAgentRun(
  job: AgentRunJob,
  options: { maxOldSpaceMiB?: number; flags?: readonly string[] } = {},
): Promise<AgentRunFigures> {
  const receiver = await startCatalogReceiver({});
  const dir = mkdtempSync(join(tmpdir(), 'perimeter-bench-'));
  const hosts = job.allowHosts ?? [new URL(String(job.connection['baseUrl'])).host];
  writeFileSync(
    join(dir, 'perimeter.yaml'),
    JSON.stringify({
      agent: { logLevel: 'warn' },
      catalog: { url: receiver.url },
      policy: { connectors: { [job.connector]: { allowHosts: hosts } } },
    }),
  );
  writeFileSync(
    join(dir, 'job.yaml'),
    JSON.stringify({
      connector: job.connector,
      runId: 'bench',
      connection: job.connection,
      params: job.params ?? {},
    }),
  );
  const report = join(dir, 'report.json');
  const heap = [
    ...(options.maxOldSpaceMiB === undefined
      ? []
      : [`--max-old-space-size=${options.maxOldSpaceMiB}`]),
    ...(options.flags ?? []),
  ];
  const started = performance.now();
  const code = await new Promise<number | null>((resolve) => {
    const child = spawn(
      process.execPath,
      [...heap, '--import', PRELOAD, AGENT, 'run', 'job.yaml'],
      {
        cwd: dir,
        env: {
          PATH: process.env['PATH'] ?? '',
          PERIMETER_CONFIG: 'perimeter.yaml',
          BENCH_REPORT_FILE: report,
          ...job.env,
        },
        stdio: ['ignore', 'ignore', 'inherit'],
      },
    );
    child.on('close', resolve);
  });
  const durationMs = performance.now() - started;
  const assets = receiver.assetCounts().size;
  await receiver.close();
  if (code !== 0) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`the agent exited ${String(code)}`);
  }
  const { peakRssBytes } = JSON.parse(readFileSync(report, 'utf8')) as { peakRssBytes: number };
  rmSync(dir, { recursive: true, force: true });
  return {
    assets,
    durationMs,
    assetsPerSecond: assets / (durationMs / 1000),
    peakRssMiB: peakRssBytes / 2 ** 20,
  };
}

/** A Markdown table row. */
export function row(label: string, heap: string, figures: AgentRunFigures): string {
  return `| ${label} | ${heap} | ${figures.assets.toLocaleString('en')} | ${(figures.durationMs / 1000).toFixed(1)} s | ${Math.round(figures.assetsPerSecond).toLocaleString('en')} | ${figures.peakRssMiB.toFixed(0)} MiB |`;
}

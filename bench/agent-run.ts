// Runs `perimeter run` as a user launches it (bin/perimeter.js, no V8 flags of our own) in a
// child process, against a source and a catalog receiver running in processes of their own, and
// reads the child's peak RSS and CPU seconds from the report bench/peak-rss.ts writes at exit.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** One measured agent run. */
export interface AgentRunFigures {
  readonly cpuSeconds: number;
  readonly mainThreadCpuSeconds: number;
  readonly wallSeconds: number;
  readonly peakRssBytes: number;
}

/** What to run: the job's connector and connection, and the env its references read. */
export interface AgentRunJob {
  readonly connector: string;
  readonly connection: Record<string, unknown>;
  readonly params?: Record<string, unknown>;
  readonly env: Record<string, string>;
  readonly allowHosts: readonly string[];
  /** Queue settings of the agent's config (e.g. `isolation`), on top of the defaults. */
  readonly queue?: Record<string, unknown>;
}

/** A Cyera extract of the whole simulator whose `info` (url, clientId, secret) is given. */
export function cyeraJob(info: Record<string, unknown>): AgentRunJob {
  return {
    connector: 'cyera',
    connection: {
      baseUrl: info['url'],
      credentials: { clientId: 'env://CYERA_CLIENT_ID', secret: 'env://CYERA_SECRET' },
    },
    env: { CYERA_CLIENT_ID: String(info['clientId']), CYERA_SECRET: String(info['secret']) },
    allowHosts: [new URL(String(info['url'])).host],
  };
}

const LAUNCHER = fileURLToPath(new URL('../bin/perimeter.js', import.meta.url));
const PRELOAD = fileURLToPath(new URL('./peak-rss.ts', import.meta.url));

/** Runs the job once in a fresh agent process pushing to the catalog at `catalogUrl`. */
export async function measureAgentRun(
  job: AgentRunJob,
  catalogUrl: string,
  runId: string,
): Promise<AgentRunFigures> {
  const dir = mkdtempSync(join(tmpdir(), 'perimeter-bench-'));
  try {
    writeFileSync(
      join(dir, 'perimeter.yaml'),
      JSON.stringify({
        agent: { logLevel: 'warn' },
        catalog: { url: catalogUrl },
        policy: { connectors: { [job.connector]: { allowHosts: job.allowHosts } } },
        ...(job.queue === undefined ? {} : { queue: job.queue }),
      }),
    );
    writeFileSync(
      join(dir, 'job.yaml'),
      JSON.stringify({
        connector: job.connector,
        runId,
        connection: job.connection,
        params: job.params ?? {},
      }),
    );
    const report = join(dir, 'report.json');
    const started = performance.now();
    const code = await new Promise<number | null>((resolve) => {
      const child = spawn(process.execPath, ['--import', PRELOAD, LAUNCHER, 'run', 'job.yaml'], {
        cwd: dir,
        env: {
          PATH: process.env['PATH'] ?? '',
          PERIMETER_CONFIG: 'perimeter.yaml',
          BENCH_REPORT_FILE: report,
          ...job.env,
        },
        stdio: ['ignore', 'ignore', 'inherit'],
      });
      child.on('close', resolve);
    });
    const wallSeconds = (performance.now() - started) / 1000;
    if (code !== 0) {
      throw new Error(`the agent exited ${String(code)}`);
    }
    const figures = JSON.parse(readFileSync(report, 'utf8')) as AgentRunFigures;
    return { ...figures, wallSeconds };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

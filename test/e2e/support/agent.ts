import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { waitFor } from '../../helpers/wait-for.ts';
import { tempDir } from '../../helpers/temp-dir.ts';

const ENTRY = new URL('../../helpers/fixture-agent.ts', import.meta.url).pathname;

/** A log line of the agent, parsed. */
export type LogRecord = Record<string, unknown> & { readonly msg?: string };

/** The agent running as a child process (`perimeter start`). */
export interface AgentProcess {
  readonly name: string;
  readonly child: ChildProcess;
  /** Port of the health server, read from its first log line. */
  readonly healthPort: number;
  /** Everything written to stdout and stderr so far. */
  output(): string;
  records(): LogRecord[];
  /** Waits for a log line with this message (and matching fields). */
  waitForLog(msg: string, fields?: Record<string, unknown>, timeoutMs?: number): Promise<LogRecord>;
  /** GET on the health server; the body parsed when it is JSON. */
  get(
    path: string,
  ): Promise<{ readonly status: number; readonly body: unknown; readonly text: string }>;
  /** Resolves with the exit code (or the signal that killed it). */
  readonly exited: Promise<{
    readonly code: number | null;
    readonly signal: NodeJS.Signals | null;
  }>;
  kill(signal?: NodeJS.Signals): void;
}

/** Writes a config file (JSON is YAML) into a fresh temporary directory; returns its path. */
export function writeConfig(config: Record<string, unknown>): string {
  const dir = tempDir('e2e');
  const path = join(dir, 'config.yaml');
  writeFileSync(path, JSON.stringify(config, null, 2));
  return path;
}

/**
 * Starts `node test/helpers/fixture-agent.ts start --config FILE [--role ROLE]` and waits until its
 * health server listens (and, unless `untilRunning` is false, until it is running).
 */
export async function spawnAgent(options: {
  readonly name: string;
  readonly configPath: string;
  readonly role?: 'link' | 'worker' | 'all';
  readonly env?: Readonly<Record<string, string>>;
  readonly untilRunning?: boolean;
  /** Another entry file (default: test/helpers/fixture-agent.ts). */
  readonly entry?: string;
  /**
   * Node options before the entry (e.g. `--cpu-prof`): unlike NODE_OPTIONS, run threads inherit
   * them too.
   */
  readonly nodeArgs?: readonly string[];
  /** Longest wait for the health server and for "Agent running". @default 20000 */
  readonly startTimeoutMs?: number;
}): Promise<AgentProcess> {
  const args = [
    ...(options.nodeArgs ?? []),
    options.entry ?? ENTRY,
    'start',
    '--config',
    options.configPath,
    ...(options.role === undefined ? [] : ['--role', options.role]),
  ];
  const child = spawn(process.execPath, args, {
    env: { PATH: process.env['PATH'] ?? '', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  const exited = once(child, 'exit').then(([code, signal]) => ({
    code: code as number | null,
    signal: signal as NodeJS.Signals | null,
  }));
  const records = (): LogRecord[] => parseLines(output);
  const waitForLog = (
    msg: string,
    fields: Record<string, unknown> = {},
    timeoutMs = 20_000,
  ): Promise<LogRecord> =>
    waitFor(
      () =>
        records().find(
          (record) =>
            record.msg === msg && Object.entries(fields).every(([k, v]) => record[k] === v),
        ),
      {
        timeoutMs,
        what: `${options.name}: log "${msg}"`,
      },
    );
  const startTimeoutMs = options.startTimeoutMs ?? 20_000;
  const listening = await Promise.race([
    waitForLog('Health server listening', {}, startTimeoutMs),
    exited.then(({ code }) => {
      throw new Error(`${options.name} exited with ${String(code)} before listening:\n${output}`);
    }),
  ]).catch(async (error: unknown) => {
    // Not left running behind a failed start.
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await exited;
    }
    throw error;
  });
  const healthPort = Number(listening['port']);
  const agent: AgentProcess = {
    name: options.name,
    child,
    healthPort,
    output: () => output,
    records,
    waitForLog,
    get: (path) => getHealth(healthPort, path),
    exited,
    kill: (signal = 'SIGTERM') => {
      child.kill(signal);
    },
  };
  if (options.untilRunning !== false) {
    await waitForLog('Agent running', {}, startTimeoutMs);
  }
  return agent;
}

/** Stops an agent if it still runs, forcibly after a bound (cleanup after a failed test). */
export async function stopAgent(agent: AgentProcess | undefined): Promise<void> {
  if (agent?.child.exitCode !== null || agent.child.signalCode !== null) {
    return;
  }
  agent.kill('SIGTERM');
  const timer = setTimeout(() => {
    agent.kill('SIGKILL');
  }, 10_000);
  await agent.exited;
  clearTimeout(timer);
}

async function getHealth(
  port: number,
  path: string,
): Promise<{ status: number; body: unknown; text: string }> {
  const response = await fetch(`http://127.0.0.1:${port}${path}`, {
    signal: AbortSignal.timeout(5_000),
  });
  const text = await response.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // Prometheus text.
  }
  return { status: response.status, body, text };
}

function parseLines(output: string): LogRecord[] {
  const records: LogRecord[] = [];
  for (const line of output.split('\n')) {
    if (line.startsWith('{')) {
      try {
        records.push(JSON.parse(line) as LogRecord);
      } catch {
        // A line cut mid-write.
      }
    }
  }
  return records;
}

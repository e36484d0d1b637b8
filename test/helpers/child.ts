import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';

/** The Node binary running the tests (Node 24), to start the agent the same way. */
export const NODE = process.execPath;

/** A finished child process. */
export interface ChildResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** A running child process whose output is collected. */
export interface RunningChild {
  readonly process: ChildProcess;
  stdout(): string;
  stderr(): string;
  exited: Promise<ChildResult>;
}

/** Starts `node <script> ...args` with the given env (added to a minimal PATH/HOME env). */
export function startChild(
  script: string,
  args: readonly string[],
  options: { cwd: string; env: Record<string, string> },
): RunningChild {
  const child = spawn(NODE, [script, ...args], {
    cwd: options.cwd,
    env: {
      PATH: process.env['PATH'] ?? '',
      HOME: process.env['HOME'] ?? '/tmp',
      // The run's own temp folder (test/setup/global-setup.ts), so a child's temp files are
      // checked and removed with the run's.
      ...(process.env['TMPDIR'] === undefined ? {} : { TMPDIR: process.env['TMPDIR'] }),
      ...options.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const exited = new Promise<ChildResult>((resolve) => {
    child.on('close', (code, signal) => {
      resolve({ code, signal, stdout: out, stderr: err });
    });
  });
  return { process: child, stdout: () => out, stderr: () => err, exited };
}

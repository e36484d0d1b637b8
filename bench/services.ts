// Starts and talks to a bench service (bench/service.ts) in a child process of its own.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const SERVICE = fileURLToPath(new URL('./service.ts', import.meta.url));
const BARE_CLIENT = fileURLToPath(new URL('./bare-client.ts', import.meta.url));

/** A running service: what it printed when it started, and its commands. */
export interface ServiceProcess {
  readonly info: Record<string, unknown>;
  stats(): Promise<Record<string, number>>;
  close(): Promise<void>;
}

/** Starts `kind` (`cyera`, `anaplan`, `catalog`) with `options`; resolves once it listens. */
export async function startService(
  kind: string,
  options: Record<string, number> = {},
): Promise<ServiceProcess> {
  const child = spawn(process.execPath, [SERVICE, kind, JSON.stringify(options)], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const nextLine = async (): Promise<Record<string, unknown>> => {
    const { value, done } = await lines.next();
    if (done === true) {
      throw new Error(`the ${kind} service ended`);
    }
    return JSON.parse(value) as Record<string, unknown>;
  };
  const info = await nextLine();
  return {
    info,
    stats: async () => {
      child.stdin.write('stats\n');
      return (await nextLine()) as Record<string, number>;
    },
    close: async () => {
      const closed = new Promise((resolve) => child.on('close', resolve));
      child.stdin.end('close\n');
      await closed;
    },
  };
}

/** What the bare client reports. */
export interface BareFigures {
  readonly records: number;
  readonly columns: number;
  readonly cpuSeconds: number;
  readonly wallSeconds: number;
  readonly peakRssBytes: number;
}

/** Runs the bare client (bench/bare-client.ts) once against the source `info` describes. */
export async function runBareClient(
  kind: string,
  info: Record<string, unknown>,
): Promise<BareFigures> {
  const child = spawn(process.execPath, [BARE_CLIENT, kind, JSON.stringify(info)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    out += chunk;
  });
  const code = await new Promise((resolve) => child.on('close', resolve));
  if (code !== 0) {
    throw new Error(`the bare client exited ${String(code)}`);
  }
  return JSON.parse(out) as BareFigures;
}

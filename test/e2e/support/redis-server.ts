import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:net';
import { freePort } from '../../helpers/ports.ts';
import { waitFor } from '../../helpers/wait-for.ts';

/** A redis-server of the test's own, with append-only persistence, that can be killed and restarted. */
export interface TestRedisServer {
  readonly port: number;
  readonly url: string;
  /** SIGKILL: no shutdown save; what survives is what the AOF holds. */
  kill(): Promise<void>;
  /** Starts it again on the same port and directory (the AOF is replayed). */
  restart(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Starts `redis-server` on a free port with `appendonly yes` and `appendfsync always`; with
 * `stopped`, only picks the port and directory (start it later with `restart()`).
 */
export async function startRedisServer(
  options: { stopped?: boolean; extraArgs?: readonly string[] } = {},
): Promise<TestRedisServer> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'perimeter-redis-'));
  let child: ChildProcess | undefined;
  const start = async (): Promise<void> => {
    child = spawn(
      'redis-server',
      [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--dir',
        dir,
        '--appendonly',
        'yes',
        '--appendfsync',
        'always',
        '--save',
        '',
        '--maxmemory-policy',
        'noeviction',
        ...(options.extraArgs ?? []),
      ],
      { stdio: 'ignore' },
    );
    await waitFor(
      // A RESP PING over a bare socket: any reply (PONG, or NOAUTH with requirepass) means up.
      () => answersPing(port),
      { timeoutMs: 10_000, what: 'redis-server to accept connections' },
    );
  };
  const kill = async (): Promise<void> => {
    if (child?.exitCode === null && child.signalCode === null) {
      const exited = once(child, 'exit');
      child.kill('SIGKILL');
      await exited;
    }
  };
  if (options.stopped !== true) {
    await start();
  }
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    kill,
    restart: start,
    close: async () => {
      await kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function answersPing(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ port, host: '127.0.0.1' });
    const done = (up: boolean): void => {
      socket.destroy();
      resolve(up);
    };
    socket.setTimeout(1_000, () => {
      done(false);
    });
    socket.once('error', () => {
      done(false);
    });
    socket.once('data', () => {
      done(true);
    });
    socket.write('PING\r\n');
  });
}

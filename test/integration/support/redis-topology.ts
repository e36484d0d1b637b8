import { execFile, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from '../../helpers/ports.ts';
import { waitFor } from '../../helpers/wait-for.ts';

const run = promisify(execFile);

/** Redis processes started for one test, stopped together. */
export interface RedisTopology {
  /** The `redis.url` that reaches it. */
  readonly url: string;
  close(): Promise<void>;
}

async function ping(port: number): Promise<boolean> {
  try {
    const { stdout } = await run('redis-cli', ['-p', String(port), 'ping'], { timeout: 2_000 });
    return stdout.trim() === 'PONG';
  } catch {
    return false;
  }
}

function startProcess(args: string[]): ChildProcess {
  return spawn('redis-server', args, { stdio: 'ignore' });
}

async function stopAll(children: readonly ChildProcess[], dir: string): Promise<void> {
  await Promise.all(
    children.map(async (child) => {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = once(child, 'exit');
        child.kill('SIGKILL');
        await exited;
      }
    }),
  );
  rmSync(dir, { recursive: true, force: true });
}

/** A master and one Sentinel watching it as `mymaster`: `redis-sentinel://127.0.0.1:<port>/mymaster`. */
export async function startSentinel(): Promise<RedisTopology> {
  const dir = mkdtempSync(join(tmpdir(), 'perimeter-sentinel-'));
  const [masterPort, sentinelPort] = [await freePort(), await freePort()];
  const master = startProcess([
    '--port',
    String(masterPort),
    '--bind',
    '127.0.0.1',
    '--save',
    '',
    '--dir',
    dir,
  ]);
  const conf = join(dir, 'sentinel.conf');
  writeFileSync(
    conf,
    [
      `port ${sentinelPort}`,
      'bind 127.0.0.1',
      `dir ${dir}`,
      `sentinel monitor mymaster 127.0.0.1 ${masterPort} 1`,
      'sentinel down-after-milliseconds mymaster 1000',
      '',
    ].join('\n'),
  );
  const sentinel = startProcess([conf, '--sentinel']);
  await waitFor(async () => (await ping(masterPort)) && ping(sentinelPort), {
    timeoutMs: 10_000,
    what: 'sentinel',
  });
  return {
    url: `redis-sentinel://127.0.0.1:${sentinelPort}/mymaster`,
    close: () => stopAll([master, sentinel], dir),
  };
}

/** Three masters in cluster mode, slots assigned: `redis-cluster://127.0.0.1:<p1>,127.0.0.1:<p2>`. */
export async function startCluster(): Promise<RedisTopology> {
  const dir = mkdtempSync(join(tmpdir(), 'perimeter-cluster-'));
  const ports = [await freePort(), await freePort(), await freePort()];
  const nodes = ports.map((port) =>
    startProcess([
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--dir',
      dir,
      '--cluster-enabled',
      'yes',
      '--cluster-config-file',
      `nodes-${port}.conf`,
    ]),
  );
  await waitFor(async () => (await Promise.all(ports.map(ping))).every(Boolean), {
    timeoutMs: 10_000,
    what: 'cluster nodes',
  });
  await run(
    'redis-cli',
    [
      '--cluster',
      'create',
      ...ports.map((port) => `127.0.0.1:${port}`),
      '--cluster-replicas',
      '0',
      '--cluster-yes',
    ],
    {
      timeout: 20_000,
    },
  );
  await waitFor(
    async () => {
      const { stdout } = await run('redis-cli', ['-p', String(ports[0]), 'cluster', 'info']);
      return stdout.includes('cluster_state:ok');
    },
    { timeoutMs: 15_000, what: 'cluster_state:ok' },
  );
  return {
    url: `redis-cluster://${ports
      .slice(0, 2)
      .map((port) => `127.0.0.1:${port}`)
      .join(',')}`,
    close: () => stopAll(nodes, dir),
  };
}

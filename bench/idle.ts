// Idle cost of `perimeter start`: a standalone agent with no jobs, on the local Redis under a
// prefix of its own. After a warm-up, samples the process's CPU time (/proc/PID/stat) and
// resident set size (/proc/PID/status) for a minute, then stops it with SIGTERM.
//   node bench/idle.ts [ENTRY]   (ENTRY: the agent's main module; default bin/perimeter.js)
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { removeFileTempDirs, tempDir } from '../test/helpers/temp-dir.ts';

const ENTRY = process.argv[2] ?? fileURLToPath(new URL('../bin/perimeter.js', import.meta.url));
const WARM_UP_MS = Number(process.env['IDLE_WARM_UP_MS'] ?? 10_000);
const WINDOW_MS = Number(process.env['IDLE_WINDOW_MS'] ?? 60_000);
const REDIS_URL = 'redis://127.0.0.1:6379';
const TICKS_PER_SECOND = 100;

function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
}

function rssMegabytes(pid: number): number {
  const line = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(line?.[1] ?? 0) / 1024;
}

const prefix = `bench-idle-${process.pid}`;
const dir = tempDir('bench-idle');
const config = join(dir, 'perimeter.yaml');
writeFileSync(
  config,
  [
    'catalog:',
    '  url: http://127.0.0.1:9',
    'redis:',
    `  url: ${REDIS_URL}`,
    `  prefix: ${prefix}`,
    'health:',
    '  port: 0',
    '  host: 127.0.0.1',
    '',
  ].join('\n'),
);
const child = spawn(process.execPath, [ENTRY, 'start', '--config', config], {
  stdio: ['ignore', 'ignore', 'inherit'],
  env: { PATH: process.env['PATH'] ?? '' },
});
const pid = child.pid ?? 0;
try {
  await sleep(WARM_UP_MS);
  if (child.exitCode !== null) {
    throw new Error(`the agent exited with ${child.exitCode} during the warm-up`);
  }
  const cpuStart = cpuSeconds(pid);
  let peakRss = rssMegabytes(pid);
  for (let elapsed = 0; elapsed < WINDOW_MS; elapsed += 1_000) {
    await sleep(1_000);
    peakRss = Math.max(peakRss, rssMegabytes(pid));
  }
  const cpu = cpuSeconds(pid) - cpuStart;
  const result = {
    entry: ENTRY,
    windowSeconds: WINDOW_MS / 1_000,
    cpuSeconds: Number(cpu.toFixed(2)),
    cpuPercent: Number(((cpu * 100_000) / WINDOW_MS).toFixed(2)),
    rssMegabytesAtEnd: Number(rssMegabytes(pid).toFixed(1)),
    peakRssMegabytes: Number(peakRss.toFixed(1)),
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
} finally {
  child.kill('SIGTERM');
  await new Promise((resolve) => child.once('exit', resolve));
  const redis = new Redis(REDIS_URL);
  const keys = [...(await redis.keys(`${prefix}:*`)), ...(await redis.keys(`{${prefix}}:*`))];
  if (keys.length > 0) {
    await redis.del(...keys);
  }
  redis.disconnect();
  removeFileTempDirs();
}

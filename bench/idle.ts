// `npm run bench:idle`: what an idle `perimeter start` costs. A standalone agent with no jobs, on
// the local Redis under a prefix of its own, launched as a user launches it (`node
// bin/perimeter.js start`, no flags by hand), in the shipped layout (bench/release.ts: compiled
// `dist/`, as in the image and the VM tarball) and from this checkout's TypeScript sources. RSS
// (/proc/PID/status) is sampled every second from the launch: the peak during the warm-up is the
// start-up peak (it spans the agent's first idle release, at 10 s, and V8's memory reducer after
// it: agent/daemon/idle-memory.ts); over the window that follows, CPU time (/proc/PID/stat), peak
// and last RSS. Then SIGTERM. Nothing is asserted.
//   node bench/idle.ts      (IDLE_WARM_UP_MS, default 30,000; IDLE_WINDOW_MS, default 60,000)
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { SOURCE_LAUNCHER, buildRelease } from './release.ts';
import { removeFileTempDirs, tempDir } from '../test/helpers/temp-dir.ts';

const WARM_UP_MS = Number(process.env['IDLE_WARM_UP_MS'] ?? 30_000);
const WINDOW_MS = Number(process.env['IDLE_WINDOW_MS'] ?? 60_000);
const REDIS_URL = 'redis://127.0.0.1:6379';
const TICKS_PER_SECOND = 100;
const TARGET_MIB = 100;
const TARGET_CPU_PERCENT = 1;

function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
}

function rssMebibytes(pid: number): number {
  const line = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(line?.[1] ?? 0) / 1024;
}

interface IdleFigures {
  readonly startUpPeakRssMiB: number;
  readonly idlePeakRssMiB: number;
  readonly idleLastRssMiB: number;
  readonly cpuPercent: number;
}

async function measureIdle(entry: string, dir: string): Promise<IdleFigures> {
  const prefix = `bench-idle-${process.pid}-${Date.now()}`;
  const config = join(dir, `${prefix}.yaml`);
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
  const child = spawn(process.execPath, [entry, 'start', '--config', config], {
    stdio: ['ignore', 'ignore', 'inherit'],
    env: { PATH: process.env['PATH'] ?? '' },
  });
  const pid = child.pid ?? 0;
  const alive = (): void => {
    if (child.exitCode !== null) {
      throw new Error(`the agent exited with ${child.exitCode}`);
    }
  };
  try {
    let startUpPeak = 0;
    for (let elapsed = 0; elapsed < WARM_UP_MS; elapsed += 1_000) {
      await sleep(1_000);
      alive();
      startUpPeak = Math.max(startUpPeak, rssMebibytes(pid));
    }
    const cpuStart = cpuSeconds(pid);
    let idlePeak = 0;
    for (let elapsed = 0; elapsed < WINDOW_MS; elapsed += 1_000) {
      await sleep(1_000);
      alive();
      idlePeak = Math.max(idlePeak, rssMebibytes(pid));
    }
    const cpu = cpuSeconds(pid) - cpuStart;
    return {
      startUpPeakRssMiB: Number(startUpPeak.toFixed(1)),
      idlePeakRssMiB: Number(idlePeak.toFixed(1)),
      idleLastRssMiB: Number(rssMebibytes(pid).toFixed(1)),
      cpuPercent: Number(((cpu * 100_000) / WINDOW_MS).toFixed(2)),
    };
  } finally {
    child.kill('SIGTERM');
    await new Promise((resolve) => child.once('exit', resolve));
    const redis = new Redis(REDIS_URL);
    const keys = [...(await redis.keys(`${prefix}:*`)), ...(await redis.keys(`{${prefix}}:*`))];
    if (keys.length > 0) {
      await redis.del(...keys);
    }
    redis.disconnect();
  }
}

try {
  const dir = tempDir('bench-idle');
  const forms = [
    ['release (dist/)', buildRelease(join(dir, 'release'))],
    ['sources (.ts)', SOURCE_LAUNCHER],
  ] as const;
  const rows: (IdleFigures & { form: string })[] = [];
  for (const [form, entry] of forms) {
    rows.push({ form, ...(await measureIdle(entry, dir)) });
  }
  process.stdout.write(
    `warm-up ${WARM_UP_MS / 1_000} s, window ${WINDOW_MS / 1_000} s; target ≤ ${TARGET_MIB} MiB and < ${TARGET_CPU_PERCENT} % CPU\n\n` +
      '| form | start-up peak RSS | idle peak RSS | idle RSS at end | idle CPU |\n|---|---|---|---|---|\n' +
      rows
        .map(
          (row) =>
            `| ${row.form} | ${row.startUpPeakRssMiB} MiB | ${row.idlePeakRssMiB} MiB | ${row.idleLastRssMiB} MiB | ${row.cpuPercent} % |`,
        )
        .join('\n') +
      `\n\n${JSON.stringify({ node: process.version, date: new Date().toISOString(), rows })}\n`,
  );
} finally {
  removeFileTempDirs();
}

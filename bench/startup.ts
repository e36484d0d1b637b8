// `npm run bench:startup`: how long `perimeter --version` and `--help` take and how much memory
// they hold, in the shipped layout (bench/release.ts: compiled `dist/`, as in the image and the
// VM tarball) and from this checkout's TypeScript sources. Each launch is a fresh process started
// as a user starts it (`node bin/perimeter.js ARGS`); wall time is measured around it, peak RSS
// (VmHWM) by a separate set of launches that preload a probe printing it at exit, so the probe's
// own cost stays out of the times. Medians over --launches (default 15). Nothing is asserted.
//   node bench/startup.ts [--launches N]
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SOURCE_LAUNCHER, buildRelease } from './release.ts';
import { median } from './stats.ts';
import { removeFileTempDirs, tempDir } from '../test/helpers/temp-dir.ts';

const TARGET_SECONDS = 0.3;
const TARGET_MIB = 60;
const args = process.argv.slice(2);
const launchesFlag = args.indexOf('--launches');
const launches = Number(launchesFlag === -1 ? 15 : args[launchesFlag + 1]);

const dir = tempDir('bench-startup');
const probe = join(dir, 'peak-rss.mjs');
writeFileSync(
  probe,
  `import { readFileSync } from 'node:fs';
process.on('exit', () => {
  const kb = /VmHWM:\\s+(\\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1];
  process.stderr.write('PEAK_RSS_KB ' + kb + '\\n');
});
`,
);

function launch(entry: string, argv: readonly string[], withProbe: boolean): number {
  const started = process.hrtime.bigint();
  const result = spawnSync(
    process.execPath,
    [...(withProbe ? ['--import', probe] : []), entry, ...argv],
    { encoding: 'utf8', env: { PATH: process.env['PATH'] ?? '' } },
  );
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (result.status !== 0 || !result.stdout.startsWith('perimeter ')) {
    throw new Error(`${entry} ${argv.join(' ')} exited ${result.status}: ${result.stderr}`);
  }
  if (!withProbe) {
    return seconds;
  }
  const kb = /PEAK_RSS_KB (\d+)/.exec(result.stderr)?.[1];
  return Number(kb) / 1024;
}

try {
  const forms = [
    ['release (dist/)', buildRelease(join(dir, 'release'))],
    ['sources (.ts)', SOURCE_LAUNCHER],
  ] as const;
  const rows: Record<string, string | number>[] = [];
  for (const [form, entry] of forms) {
    for (const argv of [['--version'], ['--help']]) {
      launch(entry, argv, false); // warms the file cache
      const seconds: number[] = [];
      const mebibytes: number[] = [];
      for (let index = 0; index < launches; index += 1) {
        seconds.push(launch(entry, argv, false));
        mebibytes.push(launch(entry, argv, true));
      }
      rows.push({
        form,
        command: `perimeter ${argv.join(' ')}`,
        medianSeconds: Number(median(seconds).toFixed(3)),
        worstSeconds: Number(Math.max(...seconds).toFixed(3)),
        medianPeakRssMiB: Number(median(mebibytes).toFixed(1)),
      });
    }
  }
  process.stdout.write(
    `${launches} launches each; target ≤ ${TARGET_SECONDS} s and ≤ ${TARGET_MIB} MiB\n\n` +
      '| form | command | median s | worst s | median peak RSS |\n|---|---|---|---|---|\n' +
      rows
        .map(
          (row) =>
            `| ${row['form']} | \`${row['command']}\` | ${row['medianSeconds']} | ${row['worstSeconds']} | ${row['medianPeakRssMiB']} MiB |`,
        )
        .join('\n') +
      `\n\n${JSON.stringify({ node: process.version, date: new Date().toISOString(), rows })}\n`,
  );
} finally {
  removeFileTempDirs();
}

import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const LAUNCHER = fileURLToPath(new URL('../../bin/perimeter.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'perimeter-launcher-'));
// Preloaded into the launched process: prints, at exit, its node flags and V8 heap limits.
const probe = join(dir, 'probe.mjs');
writeFileSync(
  probe,
  `import v8 from 'node:v8';
process.on('exit', () => {
  const { heap_size_limit } = v8.getHeapStatistics();
  process.stderr.write('PROBE ' + JSON.stringify({ pid: process.pid, execArgv: process.execArgv, heapMiB: heap_size_limit / 2 ** 20 }) + '\\n');
});
`,
);

interface Probe {
  readonly execArgv: readonly string[];
  readonly heapMiB: number;
}

/**
 * Launches the agent; `args` default to an unknown command, which starts the agent proper (heap
 * settings and all) and exits 2 at once, touching neither Redis nor the network.
 */
async function launch(
  env: Record<string, string> = {},
  args: readonly string[] = ['no-such-command'],
): Promise<{ probes: Probe[]; stdout: string; stderr: string }> {
  const { stdout, stderr } = await promisify(execFile)(
    process.execPath,
    ['--import', probe, LAUNCHER, ...args],
    { env: { PATH: process.env['PATH'] ?? '', ...env } },
  ).catch((error: unknown) => error as { stdout: string; stderr: string });
  const probes = stderr
    .split('\n')
    .filter((line) => line.startsWith('PROBE '))
    .map((line) => JSON.parse(line.slice('PROBE '.length)) as Probe);
  return { probes, stdout, stderr };
}

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('bin/perimeter.js', () => {
  it('starts the agent with its own heap settings, in the same process, when none are given', async () => {
    const { probes, stderr } = await launch();
    expect(stderr).toContain('unknown command "no-such-command"');
    // One process ran to its end: the first image was replaced, not left as a parent.
    expect(probes).toHaveLength(1);
    expect(probes[0]?.execArgv).toEqual(
      expect.arrayContaining(['--max-semi-space-size=8', '--max-old-space-size=128']),
    );
    expect(probes[0]?.heapMiB).toBeLessThan(200);
  });

  it('leaves a heap flag given in NODE_OPTIONS alone and adds only the missing one', async () => {
    const { probes } = await launch({ NODE_OPTIONS: '--max-old-space-size=300' });
    expect(probes).toHaveLength(1);
    expect(probes[0]?.execArgv).toContain('--max-semi-space-size=8');
    expect(probes[0]?.execArgv.join(' ')).not.toContain('--max-old-space-size');
    expect(probes[0]?.heapMiB).toBeGreaterThan(300);
  });

  it.each([
    { args: ['--version'] },
    { args: ['--help'] },
    { args: ['run', '--help'] },
    { args: ['version'] },
  ])(
    'answers $args in the first process: printing needs no heap settings, and a second V8 would double its cost',
    async ({ args }) => {
      const { probes, stdout } = await launch({}, args);
      expect(stdout).toMatch(/perimeter/);
      expect(probes).toHaveLength(1);
      expect(probes[0]?.execArgv.join(' ')).not.toContain('--max-semi-space-size');
    },
  );
});

// `perimeter --version` and `--help` answer from argument parsing alone: they must not read a
// connector, a secret store, a schema library, the queue or a server. Checked by the modules the
// process loads (a loader hook records them), not by timing.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/temp-dir.ts';

const run = promisify(execFile);
const BIN = fileURLToPath(new URL('../../bin/perimeter.js', import.meta.url));
const RECORDER = fileURLToPath(new URL('../helpers/record-imports.js', import.meta.url));
const ROOT = new URL('../../', import.meta.url).href;

/** Modules a start-up that prints text has no use for. */
const HEAVY = [
  /\/node_modules\/(bullmq|ioredis|fastify|undici|zod|prom-client|yaml)\//,
  /\/node_modules\/(@aws-sdk|@azure|@google-cloud|google-gax|node-vault)\//,
  /\/node_modules\/pino\//,
];

async function loadedBy(args: readonly string[]): Promise<{ stdout: string; modules: string[] }> {
  const file = join(tempDir('startup'), 'imports.txt');
  const { stdout } = await run(process.execPath, ['--import', RECORDER, BIN, ...args], {
    env: { ...process.env, RECORD_IMPORTS_FILE: file },
  });
  return { stdout, modules: readFileSync(file, 'utf8').split('\n') };
}

describe.each([['--version'], ['--help'], ['-h'], ['version']])('perimeter %s', (flag) => {
  it('answers without loading connectors, stores, the queue, servers or schemas', async () => {
    const { stdout, modules } = await loadedBy([flag]);
    expect(stdout).toMatch(/^perimeter \d+\.\d+\.\d+/);
    // The recorder saw the entry point: an empty list would prove nothing.
    expect(modules).toContain(`${ROOT}bin/perimeter.js`);
    const ours = modules.filter((url) => url.startsWith(ROOT) && !url.includes('/node_modules/'));
    expect(ours.filter((url) => /\/(connectors|secrets)\/[^/]+\//.test(url))).toEqual([]);
    expect(
      ours.filter((url) => /\/agent\/(queue|link|daemon\/daemon|run|sink|http)\//.test(url)),
    ).toEqual([]);
    expect(modules.filter((url) => HEAVY.some((pattern) => pattern.test(url)))).toEqual([]);
  });
});

describe('perimeter --help', () => {
  it('lists each registered connector with its version', async () => {
    const { stdout } = await loadedBy(['--help']);
    expect(stdout).toContain('Connectors: anaplan 0.1.0, cyera 0.1.0, cyral 0.1.0');
  });
});

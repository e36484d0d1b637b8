import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';

/** Set while a run owns a temp folder; a second global setup of the same run reuses it. */
const RUN_DIR = 'PERIMETER_TEST_RUN_DIR';

/**
 * Prints the Node version the tests run on, so a CI log shows that it is Node 24; and gives the
 * run a temp folder of its own. Every `os.tmpdir()` of the test workers (and of child processes
 * that inherit the environment) points into it, so two runs on one machine never see each
 * other's folders. At the end, anything still in it is a temp folder a test did not remove: it
 * is removed, and the run fails naming it.
 */
export function setup(_project: TestProject): (() => void) | undefined {
  if (process.env[RUN_DIR] !== undefined) {
    return undefined;
  }
  process.stdout.write(
    `perimeter tests on Node ${process.version} (${process.platform}/${process.arch})\n`,
  );
  const runDir = mkdtempSync(join(tmpdir(), 'perimeter-run-'));
  process.env[RUN_DIR] = runDir;
  process.env['TMPDIR'] = runDir;
  return () => {
    const left = readdirSync(runDir);
    rmSync(runDir, { recursive: true, force: true, maxRetries: 3 });
    if (left.length > 0) {
      throw new Error(
        `The tests left ${left.length} temp folder(s) behind: ${left.sort().join(', ')}. ` +
          'Make them with tempDir() (test/helpers/temp-dir.ts) or remove them after the test.',
      );
    }
  };
}

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TestRunner, onTestFinished } from 'vitest';

/** Folders that live until the end of the test file (or process, outside vitest). */
const fileScoped = new Set<string>();

/**
 * A fresh temp folder `perimeter-<prefix>-XXXXXX`, removed for you: after the test that made it,
 * or, when made outside a test (`beforeAll`, a per-file cache) or with `lifetime: 'file'`, after
 * the test file (the shared setup file `test/setup/leaks.ts` calls {@link removeFileTempDirs}).
 * Outside vitest (the demo, benchmarks), call {@link removeFileTempDirs} when done.
 */
export function tempDir(prefix: string, options: { lifetime?: 'test' | 'file' } = {}): string {
  const dir = mkdtempSync(join(tmpdir(), `perimeter-${prefix}-`));
  const inTest = TestRunner.getCurrentTest() !== undefined;
  if (inTest && options.lifetime !== 'file') {
    onTestFinished(() => {
      removeDir(dir);
    });
  } else {
    fileScoped.add(dir);
  }
  return dir;
}

/** Removes every folder of {@link tempDir} that outlives its test. */
export function removeFileTempDirs(): void {
  for (const dir of fileScoped) {
    removeDir(dir);
  }
  fileScoped.clear();
}

function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
}

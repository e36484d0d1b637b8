// The agent laid out as it ships (the image's /app, the VM release tarball of deploy/README.md):
// `bin/`, `dist/` (the sources compiled by `tsconfig.build.json`), `package.json` and
// `node_modules/`, so a bench measures what a user launches rather than the TypeScript sources.
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** Builds the release layout into `dir` (an empty folder) and gives its `bin/perimeter.js`. */
export function buildRelease(dir: string): string {
  execFileSync(
    process.execPath,
    [
      join(ROOT, 'node_modules/typescript/bin/tsc'),
      '-p',
      join(ROOT, 'tsconfig.build.json'),
      '--outDir',
      join(dir, 'dist'),
    ],
    { stdio: 'inherit' },
  );
  mkdirSync(join(dir, 'bin'));
  copyFileSync(join(ROOT, 'bin/perimeter.js'), join(dir, 'bin/perimeter.js'));
  copyFileSync(join(ROOT, 'package.json'), join(dir, 'package.json'));
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
  return join(dir, 'bin/perimeter.js');
}

/** The launcher of this checkout: runs `dist/` when built, else the TypeScript sources. */
export const SOURCE_LAUNCHER = join(ROOT, 'bin/perimeter.js');

// Prints every dev-only package of the lockfile found under an app directory (one per line),
// so the image check can assert that the image carries production dependencies only.
// usage: node deploy/image/dev-packages.ts package-lock.json APP_DIR
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

interface Lockfile {
  readonly packages: Readonly<Record<string, { readonly dev?: boolean }>>;
}

const [lockfilePath, appDir] = process.argv.slice(2);
if (lockfilePath === undefined || appDir === undefined) {
  throw new Error('usage: dev-packages.ts package-lock.json APP_DIR');
}
const lockfile = JSON.parse(readFileSync(lockfilePath, 'utf8')) as Lockfile;
const present = Object.entries(lockfile.packages)
  .filter(([path, entry]) => path !== '' && entry.dev === true)
  .map(([path]) => path)
  .filter((path) => existsSync(join(appDir, path)));
process.stdout.write(present.map((path) => `${path}\n`).join(''));

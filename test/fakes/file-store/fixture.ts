import { mkdir, rename, rm, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createFileStore } from '../../../secrets/file/index.ts';
import { nodeFileReader } from '../../../secrets/file/read.ts';
import type {
  SecretStoreFixture,
  SecretStoreHarness,
} from '../../conformance/secret-store-fixture.ts';
import { FaultyFileReader } from './faulty-reader.ts';
import { tempDir } from '../../helpers/temp-dir.ts';

/**
 * The file store over real files in a temporary directory. Secrets are replaced the way a
 * Kubernetes Secret mount rotates them (write elsewhere, then an atomic rename). Faults come
 * from {@link FaultyFileReader} layered over the real reader.
 */
export const fileStoreFixture: SecretStoreFixture = {
  scheme: 'file',
  capabilities: { remove: true },
  async start(): Promise<SecretStoreHarness> {
    const root = tempDir('file-store');
    const allowed = join(root, 'allowed');
    const outside = join(root, 'outside');
    await mkdir(allowed);
    await mkdir(outside);
    await writeFile(join(outside, 'other'), 'not for the agent');
    const reader = new FaultyFileReader(nodeFileReader);
    const ref = (path: string): string => `file://${path}?store=conformance`;
    let writes = 0;
    return {
      store: createFileStore({ reader }),
      profile: { type: 'file', allow: [`${allowed}/**`], trimTrailingNewline: false },
      async put(name, value) {
        writes += 1;
        const staging = join(root, `.staging-${writes}`);
        await writeFile(staging, value);
        await rename(staging, join(allowed, name));
        return ref(join(allowed, name));
      },
      remove: (name) => unlink(join(allowed, name)),
      missingRef: () => ref(join(allowed, 'missing')),
      async deniedRef() {
        const path = join(allowed, 'denied');
        await writeFile(path, 'unreadable');
        reader.deny(path);
        return ref(path);
      },
      disallowedRef: () => ref(join(outside, 'other')),
      failNext: (count) => {
        reader.failNext(count);
      },
      failAll: () => {
        reader.failAll();
      },
      restore: () => {
        reader.restore();
      },
      delay: (ms) => {
        reader.delay(ms);
      },
      readCount: () => reader.reads,
      close: () => rm(root, { recursive: true, force: true }),
    };
  },
};

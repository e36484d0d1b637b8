import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { startChild } from '../test/helpers/child.ts';
import { freePort } from '../test/helpers/ports.ts';

// npm packages of the cloud SDKs and their transports: what a process that never reads from a
// store must not load (together about a third of a second of startup and 21 MiB of heap).
const SDK_PACKAGES = [
  /^@aws-sdk\//,
  /^@smithy\//,
  /^@azure\//,
  /^@google-cloud\//,
  /^google-gax$/,
  /^google-auth-library$/,
  /^@grpc\//,
  /^node-vault$/,
];

function sdkPackages(names: readonly string[]): string[] {
  return names.filter((name) => SDK_PACKAGES.some((pattern) => pattern.test(name)));
}

describe('secret store loading', () => {
  it('loads no cloud SDK until a store reads, then only that store’s', async () => {
    const entry = fileURLToPath(new URL('../test/helpers/store-loading.ts', import.meta.url));
    const child = startChild(entry, [String(await freePort())], {
      cwd: fileURLToPath(new URL('..', import.meta.url)),
      env: {},
    });

    const result = await child.exited;

    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const { built, afterVaultRead } = JSON.parse(result.stdout) as Record<string, string[]>;
    expect(sdkPackages(built!)).toEqual([]);
    expect(sdkPackages(afterVaultRead!)).toEqual(['node-vault']);
  });
});

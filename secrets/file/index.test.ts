import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseSecretRef } from '../../agent/secrets/ref.ts';
import { testStoreDeps } from '../../test/helpers/store-deps.ts';
import { FaultyFileReader } from '../../test/fakes/file-store/faulty-reader.ts';
import { FILE_SECRET_MAX_BYTES, createFileStore, fileStore } from './index.ts';
import { nodeFileReader } from './read.ts';
import { tempDir } from '../../test/helpers/temp-dir.ts';

const ref = (text: string): ReturnType<typeof parseSecretRef> => parseSecretRef(text, [fileStore]);
const signal = new AbortController().signal;
let root = '';

beforeAll(async () => {
  root = tempDir('file-test');
  await writeFile(join(root, 'token'), 'token-value\n');
  await writeFile(join(root, 'crlf'), 'crlf-value\r\n');
  await writeFile(join(root, 'big'), Buffer.alloc(FILE_SECRET_MAX_BYTES + 1, 0x61));
  await writeFile(join(root, 'exact'), Buffer.alloc(FILE_SECRET_MAX_BYTES, 0x61));
  await mkdir(join(root, 'dir'));
  await mkdir(join(root, '..2024_01_01'));
  await writeFile(join(root, '..2024_01_01', 'key'), 'mounted-value');
  await symlink(join(root, '..2024_01_01', 'key'), join(root, 'mounted'));
});

async function read(path: string, settings = { trimTrailingNewline: true }): Promise<string> {
  const client = fileStore.create(settings, testStoreDeps().deps);
  return (
    await client.fetch(client.canonicalize(ref(`file://${path}`)), { signal })
  ).value.toString();
}

describe('file store', () => {
  it('reads a file and drops one trailing newline', async () => {
    expect(await read(join(root, 'token'))).toBe('token-value');
    expect(await read(join(root, 'crlf'))).toBe('crlf-value');
    expect(await read(join(root, 'token'), { trimTrailingNewline: false })).toBe('token-value\n');
  });

  it('follows symlinks, as Kubernetes Secret mounts are symlinks into a ..data folder', async () => {
    expect(await read(join(root, 'mounted'))).toBe('mounted-value');
  });

  it('reads a file of exactly 1 MiB and refuses a larger one with SECRET_TOO_LARGE', async () => {
    expect((await read(join(root, 'exact'))).length).toBe(FILE_SECRET_MAX_BYTES);
    await expect(read(join(root, 'big'))).rejects.toMatchObject({ code: 'SECRET_TOO_LARGE' });
  });

  it.each([
    ['missing', 'SECRET_NOT_FOUND'],
    ['token/below', 'SECRET_NOT_FOUND'],
    ['dir', 'SECRET_NOT_FOUND'],
  ])('answers %s with %s', async (name, code) => {
    await expect(read(join(root, name))).rejects.toMatchObject({
      code,
      context: { ref: `file://${join(root, name)}` },
    });
  });

  it('does not block on a FIFO', async () => {
    const fifo = join(root, 'fifo');
    execFileSync('mkfifo', [fifo]);
    await expect(read(fifo)).rejects.toMatchObject({
      code: 'SECRET_NOT_FOUND',
      message: /not a regular file/,
    });
  });

  it('maps EACCES to SECRET_ACCESS_DENIED and other failures to SECRET_UNAVAILABLE', async () => {
    const reader = new FaultyFileReader(nodeFileReader);
    const client = createFileStore({ reader }).create(
      { trimTrailingNewline: true },
      testStoreDeps().deps,
    );
    const target = client.canonicalize(ref(`file://${join(root, 'token')}`));
    reader.deny(join(root, 'token'));
    await expect(client.fetch(target, { signal })).rejects.toMatchObject({
      code: 'SECRET_ACCESS_DENIED',
      context: { errno: 'EACCES' },
    });
    reader.failNext(1);
    await expect(client.fetch(target, { signal })).rejects.toMatchObject({
      code: 'SECRET_UNAVAILABLE',
      retryable: true,
      context: { errno: 'EIO' },
    });
  });

  it.each([
    ['file://relative/path', /must be absolute/],
    ['file:///var/run/../etc/shadow', /must be normalised/],
    ['file:///var/run/./x', /must be normalised/],
    ['file:///var//run', /must be normalised/],
    ['file:///var/run/', /must be normalised/],
    ['file:///', /must be normalised/],
    ['file:///x?version=1', /no versions/],
  ])('refuses %s', (text, message) => {
    expect(() =>
      fileStore.create({ trimTrailingNewline: true }, testStoreDeps().deps).canonicalize(ref(text)),
    ).toThrow(message);
  });

  it('accepts a ..data segment, which is a name and not a parent reference', () => {
    const client = fileStore.create({ trimTrailingNewline: true }, testStoreDeps().deps);
    expect(client.canonicalize(ref('file:///var/run/secrets/x/..data/key')).locator).toBe(
      '/var/run/secrets/x/..data/key',
    );
  });

  it('honours an aborted signal', async () => {
    const client = fileStore.create({ trimTrailingNewline: true }, testStoreDeps().deps);
    const target = client.canonicalize(ref(`file://${join(root, 'token')}`));
    await expect(
      client.fetch(target, { signal: AbortSignal.abort(new Error('stop')) }),
    ).rejects.toThrow('stop');
  });
});

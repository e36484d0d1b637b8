import { posix } from 'node:path';
import { z } from 'zod';
import { PerimeterError, defineSecretStore, isAbortError } from '../../agent/plugin-api/index.ts';
import type {
  CanonicalSecretRef,
  FetchedSecret,
  SecretRef,
  SecretStoreDefinition,
} from '../../agent/plugin-api/index.ts';
import { nodeFileReader } from './read.ts';
import type { SecretFileReader } from './read.ts';

export type { SecretFileReader } from './read.ts';

/** Largest file the store reads: a credential, a key or a certificate chain fits easily. */
export const FILE_SECRET_MAX_BYTES = 1024 * 1024;

const FileProfileSchema = z.strictObject({
  trimTrailingNewline: z
    .boolean()
    .default(true)
    .describe(
      'Drop one trailing newline (\\n or \\r\\n) from the file, as `echo value > file` leaves one; false keeps the bytes exactly',
    ),
});

type FileProfile = z.output<typeof FileProfileSchema>;

/** Options of {@link createFileStore}. */
export interface FileStoreOptions {
  /** How files are read; tests put a fault-injecting reader over {@link nodeFileReader}. */
  readonly reader?: SecretFileReader;
}

function invalidRef(ref: SecretRef, problem: string): PerimeterError {
  return new PerimeterError(
    'SECRET_INVALID_REF',
    `Invalid file reference: ${problem}. Expected file:///absolute/path (e.g. file:///var/run/secrets/perimeter/token)`,
    { context: { ref: ref.raw } },
  );
}

function canonicalize(ref: SecretRef): CanonicalSecretRef {
  const path = ref.locator;
  if (!path.startsWith('/')) {
    throw invalidRef(ref, 'the path must be absolute (three slashes: file:// then /path)');
  }
  // Normalised means the allowlist sees the path that is opened: no `.`, `..`, `//` or trailing `/`.
  if (
    path.includes('\0') ||
    path.length < 2 ||
    posix.normalize(path) !== path ||
    path.endsWith('/')
  ) {
    throw invalidRef(ref, 'the path must be normalised (no "..", ".", "//" or trailing "/")');
  }
  if (ref.version !== undefined) {
    throw invalidRef(ref, 'files have no versions, remove ?version=');
  }
  return { locator: path, version: undefined, pinned: false, details: {} };
}

const NOT_FOUND_CODES = new Set(['ENOENT', 'ENOTDIR', 'ELOOP', 'ENAMETOOLONG']);
const DENIED_CODES = new Set(['EACCES', 'EPERM']);

/** Maps an fs failure to the store contract's codes; anything unexpected counts as transient. */
function mapReadError(error: unknown, path: string): unknown {
  if (error instanceof PerimeterError || isAbortError(error)) {
    return error;
  }
  const code = (error as { code?: unknown } | null)?.code;
  const errno = typeof code === 'string' ? code : 'unknown';
  const context = { ref: `file://${path}`, errno };
  if (NOT_FOUND_CODES.has(errno)) {
    return new PerimeterError(
      'SECRET_NOT_FOUND',
      'The file does not exist. Check the path and that the Secret or volume is mounted',
      { cause: error, context },
    );
  }
  if (DENIED_CODES.has(errno)) {
    return new PerimeterError(
      'SECRET_ACCESS_DENIED',
      "The agent's user may not read the file. Make it readable by the agent (Kubernetes: defaultMode or fsGroup)",
      { cause: error, context },
    );
  }
  return new PerimeterError('SECRET_UNAVAILABLE', 'Reading the file failed', {
    cause: error,
    context,
  });
}

function trimNewline(value: Buffer): Buffer {
  if (value.at(-1) !== 0x0a) {
    return value;
  }
  return value.subarray(0, value.at(-2) === 0x0d ? -2 : -1);
}

async function readSecret(
  reader: SecretFileReader,
  profile: FileProfile,
  ref: CanonicalSecretRef,
  signal: AbortSignal,
): Promise<FetchedSecret> {
  let bytes: Buffer;
  try {
    bytes = await reader.read(ref.locator, { maxBytes: FILE_SECRET_MAX_BYTES, signal });
  } catch (error) {
    throw signal.aborted ? error : mapReadError(error, ref.locator);
  }
  const value = profile.trimTrailingNewline ? trimNewline(bytes) : bytes;
  return { value, versionId: undefined };
}

/**
 * Builds the `file:///absolute/path` store. Each soft TTL the file is read again, so a rotated
 * Kubernetes Secret mount (an atomic symlink swap) is picked up without a restart.
 */
export function createFileStore(
  options: FileStoreOptions = {},
): SecretStoreDefinition<typeof FileProfileSchema> {
  const reader = options.reader ?? nodeFileReader;
  return defineSecretStore({
    scheme: 'file',
    params: [],
    profileSchema: FileProfileSchema,
    implicitProfile: {},
    create: (profile) => ({
      canonicalize,
      fetch: (ref, { signal }) => readSecret(reader, profile, ref, signal),
      close: () => Promise.resolve(),
    }),
  });
}

/** The file store over the real file system, as registered in secrets/index.ts. */
export const fileStore = createFileStore();

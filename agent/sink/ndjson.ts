import { AssetSchema, PerimeterError, isAsset } from '../plugin-api/index.ts';

const MAX_NAMED_PATHS = 10;
const TYPE_NAME_PATTERN = /^[A-Z][A-Za-z0-9_]{0,127}$/;

/** One asset as an NDJSON line: its JSON text, and the line's size in UTF-8 bytes (newline included). */
export interface AssetLine {
  readonly json: string;
  readonly bytes: number;
}

/**
 * Validates one asset against the published asset schema and serialises it, once, to its NDJSON
 * line. The check is `isAsset`, the compiled form of the schema; only an
 * asset it refuses goes through the zod schema, whose issues name what is wrong (and whose
 * verdict stands). The error names the asset's type and the failing paths, never the values: an
 * attribute may hold something the operator must not see in a log.
 */
export function encodeAssetLine(asset: unknown, maxLineBytes: number): AssetLine {
  const valid = isAsset(asset) ? asset : parseAsset(asset);
  const json = JSON.stringify(valid);
  const bytes = Buffer.byteLength(json, 'utf8') + 1;
  if (bytes > maxLineBytes) {
    throw assetTooLarge(valid.typeName, bytes, maxLineBytes);
  }
  return { json, bytes };
}

/** The error of an asset whose line is `bytes` long (newline included), over `maxLineBytes`. */
export function assetTooLarge(
  typeName: unknown,
  bytes: number,
  maxLineBytes: number,
): PerimeterError {
  const described = describeTypeName(typeName);
  return new PerimeterError(
    'ASSET_TOO_LARGE',
    `A ${described} asset is ${bytes} bytes as NDJSON, more than catalog.batchMaxBytes (${maxLineBytes})`,
    { context: { typeName: described, bytes, batchMaxBytes: maxLineBytes } },
  );
}

/**
 * Assets checked and encoded by {@link encodeAssetLine} in a run thread, as their NDJSON lines
 * back to back (each with its newline): a sink run writes them as they are
 * (`SinkRun.writeEncoded`), so the core neither parses nor encodes them again. Per asset, in
 * order: its line's size in bytes and its `typeName`, an index into `typeNames`. Built only by
 * the core's side of the run-thread protocol (agent/daemon/run-thread/), from what the thread's
 * encoder sent; a connector never makes one, and one in the agent's own thread never sees it.
 */
export class EncodedAssets {
  readonly lines: Uint8Array;
  readonly lineBytes: Uint32Array;
  readonly typeIndex: Uint32Array;
  readonly typeNames: readonly string[];
  readonly #hold: (() => () => void) | undefined;

  constructor(parts: {
    lines: Uint8Array;
    lineBytes: Uint32Array;
    typeIndex: Uint32Array;
    typeNames: readonly string[];
    /** Counts one more holder of `lines`; the function it returns releases that hold. */
    hold?: () => () => void;
  }) {
    this.lines = parts.lines;
    this.lineBytes = parts.lineBytes;
    this.typeIndex = parts.typeIndex;
    this.typeNames = parts.typeNames;
    this.#hold = parts.hold;
  }

  get count(): number {
    return this.lineBytes.length;
  }

  /** The `typeName` of the asset at `index`. */
  typeNameAt(index: number): string {
    return this.typeNames[this.typeIndex[index] ?? -1] ?? '';
  }

  /**
   * For a batch body that keeps part of `lines`: the function to call once it has read them,
   * so their memory goes back to the thread that sent them (`BatchBody.append`).
   */
  hold(): (() => void) | undefined {
    return this.#hold?.();
  }
}

const NEWLINE = 0x0a;

/**
 * NDJSON lines written back to back into one Buffer, grown when a line does not fit. `take()`
 * hands the lines over and starts afresh: the taker may keep them (a batch body's zlib reads
 * them later, a run thread transfers them to the core), so a Buffer is never reused. Used by
 * the sink run (its chunks for the batch body) and by a run thread (the lines of a chunk).
 */
export class LineBuffer {
  readonly #minBytes: number;
  readonly #allocate: (bytes: number) => Buffer;
  #buffer: Buffer | undefined;
  #used = 0;

  /**
   * `minBytes`: the size of each new Buffer (a larger line gets a larger one); `allocate` makes
   * one of at least the given size (by default its own ArrayBuffer, never the shared pool, so a
   * run thread can transfer it).
   */
  constructor(
    minBytes: number,
    allocate: (bytes: number) => Buffer = (bytes) => Buffer.allocUnsafeSlow(bytes),
  ) {
    this.#minBytes = minBytes;
    this.#allocate = allocate;
  }

  /** Bytes written since the last `take()`. */
  get bytes(): number {
    return this.#used;
  }

  /** Writes one line (`bytes` long with its newline) at the end. */
  put(json: string, bytes: number): void {
    const needed = this.#used + bytes;
    if (this.#buffer === undefined || this.#buffer.length < needed) {
      const grown = this.#allocate(Math.max(this.#minBytes, needed));
      this.#buffer?.copy(grown, 0, 0, this.#used);
      this.#buffer = grown;
    }
    this.#used += this.#buffer.write(json, this.#used, 'utf8');
    this.#buffer[this.#used] = NEWLINE;
    this.#used += 1;
  }

  /** The lines written so far; the next `put` starts a new Buffer. */
  take(): Buffer {
    const lines = this.#buffer?.subarray(0, this.#used) ?? Buffer.alloc(0);
    this.#buffer = undefined;
    this.#used = 0;
    return lines;
  }
}

function parseAsset(asset: unknown): ReturnType<typeof AssetSchema.parse> {
  const parsed = AssetSchema.safeParse(asset);
  if (parsed.success) {
    return parsed.data;
  }
  const paths = [...new Set(parsed.error.issues.map((issue) => issue.path.join('.') || '(root)'))];
  const typeName = describeTypeName(typeNameOf(asset));
  throw new PerimeterError(
    'ASSET_INVALID',
    `A ${typeName} asset fails the asset schema at ${paths.slice(0, MAX_NAMED_PATHS).join(', ')}`,
    { context: { typeName, paths: paths.slice(0, MAX_NAMED_PATHS) } },
  );
}

function typeNameOf(asset: unknown): unknown {
  return typeof asset === 'object' && asset !== null
    ? (asset as { typeName?: unknown }).typeName
    : undefined;
}

function describeTypeName(typeName: unknown): string {
  // Echo only a well-formed type name: a malformed one may be a value put in the wrong field.
  if (typeof typeName !== 'string' || !TYPE_NAME_PATTERN.test(typeName)) {
    return '(malformed typeName)';
  }
  return typeName;
}

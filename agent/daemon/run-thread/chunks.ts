import { PerimeterError } from '../../plugin-api/index.ts';
import { EncodedAssets, LineBuffer, encodeAssetLine } from '../../sink/ndjson.ts';

/**
 * A chunk of items as it crosses from a thread to the core. Assets are checked and encoded in the
 * thread by the sink's own `encodeAssetLine`, and cross as their NDJSON lines back to back in one
 * transferred buffer, with each line's size and type: the core writes those bytes as they are,
 * without parsing, encoding or copying them. Any other item crosses as its JSON text (items are
 * JSON by contract), with the number of assets before it, so the order is kept.
 */
export interface WireChunk {
  /** The assets' NDJSON lines, each with its newline. */
  readonly lines: Uint8Array;
  /**
   * For n assets, 2n numbers: each asset's line size in bytes, then each asset's `typeName` as an
   * index into `typeNames`.
   */
  readonly assets: Uint32Array;
  readonly typeNames: readonly string[];
  /** The other items' JSON texts, one per line (`''` when there is none). */
  readonly others: string;
  /** Per other item, how many of the chunk's assets come before it. */
  readonly othersAt: readonly number[];
}

/** Builds chunks in the thread, item by item; `take()` ends one for `postMessage`. */
export class ChunkEncoder {
  readonly #lines: LineBuffer;
  #lineBytes: number[] = [];
  #typeIndex: number[] = [];
  #typeNames: string[] = [];
  #types = new Map<string, number>();
  #others: string[] = [];
  #othersAt: number[] = [];
  #othersChars = 0;

  /**
   * `bufferBytes`: the size of a chunk's lines buffer (a chunk is cut before it is full);
   * `allocate`: where buffers come from (those the core gave back first).
   */
  constructor(bufferBytes: number, allocate?: (bytes: number) => Buffer) {
    this.#lines = new LineBuffer(bufferBytes, allocate);
  }

  /** Bytes of lines and characters of other items so far. */
  get size(): number {
    return this.#lines.bytes + this.#othersChars;
  }

  get empty(): boolean {
    return this.#lineBytes.length === 0 && this.#others.length === 0;
  }

  /** Adds one item; an invalid asset throws as the sink would (ASSET_INVALID). */
  add(item: unknown): void {
    const asset = assetOf(item);
    if (asset === undefined) {
      const json = JSON.stringify(item);
      this.#others.push(json);
      this.#othersAt.push(this.#lineBytes.length);
      this.#othersChars += json.length;
      return;
    }
    // The size limit is the core's to check, where the line is written.
    const line = encodeAssetLine(asset, Number.POSITIVE_INFINITY);
    this.#lines.put(line.json, line.bytes);
    this.#lineBytes.push(line.bytes);
    this.#typeIndex.push(this.#typeOf((asset as { typeName: string }).typeName));
  }

  /** The chunk so far and what `postMessage` transfers with it; starts the next chunk. */
  take(): { readonly chunk: WireChunk; readonly transfer: ArrayBuffer[] } {
    const lines = this.#lines.take();
    const count = this.#lineBytes.length;
    const assets = new Uint32Array(2 * count);
    assets.set(this.#lineBytes);
    assets.set(this.#typeIndex, count);
    const chunk: WireChunk = {
      lines,
      assets,
      typeNames: this.#typeNames,
      others: this.#others.join('\n'),
      othersAt: this.#othersAt,
    };
    this.#lineBytes = [];
    this.#typeIndex = [];
    this.#typeNames = [];
    this.#types = new Map();
    this.#others = [];
    this.#othersAt = [];
    this.#othersChars = 0;
    const transfer = [assets.buffer];
    if (lines.byteLength > 0) {
      transfer.push(lines.buffer as ArrayBuffer);
    }
    return { chunk, transfer };
  }

  #typeOf(typeName: string): number {
    let index = this.#types.get(typeName);
    if (index === undefined) {
      index = this.#typeNames.push(typeName) - 1;
      this.#types.set(typeName, index);
    }
    return index;
  }
}

/**
 * The items of a chunk in order, as the core hands them on: each other item as it was yielded,
 * each run of assets between them as one {@link EncodedAssets}. A chunk that does not add up
 * (sizes against bytes, types, positions) is refused: the thread that sent it is broken.
 *
 * `release` is the chunk's own hold on its lines: the caller calls it once every item was
 * handled; once the batch bodies that kept some of the lines have read them too, `onFree` gets
 * their memory, for the thread to fill again.
 */
export function decodeChunk(
  chunk: WireChunk,
  onFree: (buffer: ArrayBuffer) => void = () => undefined,
): { readonly items: unknown[]; readonly release: () => void } {
  const { lines, typeNames, othersAt } = chunk;
  const count = chunk.assets.length / 2;
  const lineBytes = chunk.assets.subarray(0, count);
  const typeIndex = chunk.assets.subarray(count);
  const others = chunk.others === '' ? [] : chunk.others.split('\n');
  if (!wellFormed(chunk, others.length)) {
    throw new PerimeterError('INTERNAL', 'A run thread sent a chunk the core cannot read');
  }
  const lease = new Lease(() => {
    if (lines.byteLength > 0) {
      onFree(lines.buffer as ArrayBuffer);
    }
  });
  const items: unknown[] = [];
  let asset = 0;
  let byte = 0;
  const assetsUpTo = (end: number): void => {
    if (end === asset) {
      return;
    }
    let bytes = 0;
    for (let index = asset; index < end; index += 1) {
      bytes += lineBytes[index] ?? 0;
    }
    items.push(
      new EncodedAssets({
        lines: lines.subarray(byte, byte + bytes),
        lineBytes: lineBytes.subarray(asset, end),
        typeIndex: typeIndex.subarray(asset, end),
        typeNames,
        hold: () => lease.hold(),
      }),
    );
    asset = end;
    byte += bytes;
  };
  others.forEach((json, index) => {
    assetsUpTo(othersAt[index] ?? 0);
    items.push(JSON.parse(json) as unknown);
  });
  assetsUpTo(count);
  return { items, release: lease.hold() };
}

function wellFormed(chunk: WireChunk, otherCount: number): boolean {
  const { lines, assets, typeNames, othersAt } = chunk;
  if (
    !(lines instanceof Uint8Array) ||
    !(assets instanceof Uint32Array) ||
    assets.length % 2 !== 0 ||
    othersAt.length !== otherCount
  ) {
    return false;
  }
  const count = assets.length / 2;
  let total = 0;
  for (let index = 0; index < count; index += 1) {
    const bytes = assets[index] ?? 0;
    if (bytes < 1 || (assets[count + index] ?? 0) >= typeNames.length) {
      return false;
    }
    total += bytes;
  }
  return (
    total === lines.byteLength &&
    othersAt.every((at, index) => at >= (othersAt[index - 1] ?? 0) && at <= count)
  );
}

/** Holders of one buffer: `onFree` runs when the last of them released it. */
class Lease {
  readonly #onFree: () => void;
  #holders = 0;

  constructor(onFree: () => void) {
    this.#onFree = onFree;
  }

  /** One more holder; the function releases its hold (a second call does nothing). */
  hold(): () => void {
    this.#holders += 1;
    let held = true;
    return () => {
      if (held) {
        held = false;
        this.#holders -= 1;
        if (this.#holders === 0) {
          this.#onFree();
        }
      }
    };
  }
}

function assetOf(item: unknown): unknown {
  const event = item as { type?: unknown; asset?: unknown } | null;
  return typeof event === 'object' && event !== null && event.type === 'asset'
    ? event.asset
    : undefined;
}

import { describe, expect, it } from 'vitest';
import { EncodedAssets, encodeAssetLine } from '../../sink/ndjson.ts';
import { ChunkEncoder, decodeChunk } from './chunks.ts';
import type { WireChunk } from './chunks.ts';

const asset = {
  typeName: 'CyeraColumn',
  qualifiedName: 'cyera/acme/ds/DB/S/T/EMAIL',
  name: 'EMAIL',
  parentQualifiedName: 'cyera/acme/ds/DB/S/T',
  attributes: { sensitivity: 'Sensitive', note: 'quotes " and \\ and ünïcode\nand a newline' },
};
const table = {
  typeName: 'CyeraTable',
  qualifiedName: 'cyera/acme/ds/DB/S/T',
  name: 'T',
  attributes: {},
};

/** The chunk of `items` as the thread would post it. */
function encoded(items: readonly unknown[]): WireChunk {
  const encoder = new ChunkEncoder(64);
  items.forEach((item) => {
    encoder.add(item);
  });
  return encoder.take().chunk;
}

/** The NDJSON lines a block carries, one string per asset. */
function linesOf(block: EncodedAssets): string[] {
  return Buffer.from(block.lines).toString('utf8').split('\n').slice(0, -1);
}

describe('chunks crossing from a run thread', () => {
  it('carry assets as the very lines the sink would write, with each line’s size and type', () => {
    const { items } = decodeChunk(
      encoded([
        { type: 'asset', asset },
        { type: 'asset', asset: table },
      ]),
    );
    expect(items).toHaveLength(1);
    const block = items[0] as EncodedAssets;
    expect(block).toBeInstanceOf(EncodedAssets);
    const expected = [encodeAssetLine(asset, 1e6), encodeAssetLine(table, 1e6)];
    expect(linesOf(block)).toEqual(expected.map((line) => line.json));
    expect([...block.lineBytes]).toEqual(expected.map((line) => line.bytes));
    expect([block.typeNameAt(0), block.typeNameAt(1)]).toEqual(['CyeraColumn', 'CyeraTable']);
  });

  it('refuse an invalid asset in the thread, as the sink would', () => {
    expect(() => {
      new ChunkEncoder(64).add({ type: 'asset', asset: { typeName: 'x' } });
    }).toThrow(expect.objectContaining({ code: 'ASSET_INVALID' }) as Error);
  });

  it('forward any other item as it is, in its place among the assets', () => {
    const checkpoint = { type: 'checkpoint', cursor: { after: 'a\tb\nc' } };
    const skipped = { type: 'skipped', kind: 'model', id: 'm-1', reason: 'forbidden' };
    const { items } = decodeChunk(
      encoded([
        skipped,
        { type: 'asset', asset },
        { type: 'asset', asset: table },
        checkpoint,
        { type: 'asset', asset },
      ]),
    );
    expect(items.map((item) => (item instanceof EncodedAssets ? item.count : item))).toEqual([
      skipped,
      2,
      checkpoint,
      1,
    ]);
    expect(linesOf(items[3] as EncodedAssets)).toEqual([encodeAssetLine(asset, 1e6).json]);
    const resources = [{ kind: 'datastore', id: 'ds', name: 'Datastore' }];
    expect(decodeChunk(encoded(resources)).items).toEqual(resources);
    expect(decodeChunk(encoded([])).items).toEqual([]);
  });

  it('refuse a chunk that does not add up', () => {
    const chunk = encoded([{ type: 'asset', asset }]);
    const broken: WireChunk[] = [
      { ...chunk, lines: chunk.lines.subarray(1) },
      { ...chunk, typeNames: [] },
      { ...chunk, assets: chunk.assets.subarray(1) },
      { ...chunk, othersAt: [0] },
    ];
    for (const wire of broken) {
      expect(() => decodeChunk(wire)).toThrow(
        expect.objectContaining({ code: 'INTERNAL' }) as Error,
      );
    }
  });

  it('give a chunk’s lines back only once the core and every body holding them let go', () => {
    const chunk = encoded([
      { type: 'asset', asset },
      { type: 'checkpoint' },
      { type: 'asset', asset },
    ]);
    const freed: ArrayBuffer[] = [];
    const { items, release } = decodeChunk(chunk, (buffer) => freed.push(buffer));
    const first = (items[0] as EncodedAssets).hold();
    const second = (items[2] as EncodedAssets).hold();
    release();
    first?.();
    first?.();
    expect(freed).toEqual([]);
    second?.();
    expect(freed).toEqual([chunk.lines.buffer]);
  });

  it('start each chunk in a buffer of its own, reusing what the allocator hands out', () => {
    const reused = new ArrayBuffer(4096);
    const encoder = new ChunkEncoder(1024, (bytes) =>
      bytes <= reused.byteLength ? Buffer.from(reused) : Buffer.allocUnsafeSlow(bytes),
    );
    encoder.add({ type: 'asset', asset });
    const { chunk, transfer } = encoder.take();
    expect(chunk.lines.buffer).toBe(reused);
    expect(transfer).toEqual([chunk.assets.buffer, reused]);
    expect(encoder.empty).toBe(true);
  });
});

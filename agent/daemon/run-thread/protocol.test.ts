import { describe, expect, it } from 'vitest';
import { encodeAssetLine } from '../../sink/ndjson.ts';
import { decodeChunk, encodeChunk, encodeItem } from './protocol.ts';

const asset = {
  typeName: 'CyeraColumn',
  qualifiedName: 'cyera/acme/ds/DB/S/T/EMAIL',
  name: 'EMAIL',
  parentQualifiedName: 'cyera/acme/ds/DB/S/T',
  attributes: { sensitivity: 'Sensitive', note: 'quotes " and \\ and ünïcode' },
};

const across = (item: unknown): unknown => decodeChunk(encodeChunk([encodeItem(item)]))[0];

describe('items crossing from a run thread', () => {
  it('carries an asset as the very line the sink would write', () => {
    const decoded = across({ type: 'asset', asset }) as { type: string; asset: unknown };
    expect(decoded.type).toBe('asset');
    expect(decoded.asset).toMatchObject({ typeName: 'CyeraColumn', name: 'EMAIL' });
    expect(encodeAssetLine(decoded.asset, 1_000_000)).toEqual(encodeAssetLine(asset, 1_000_000));
  });

  it('still holds an encoded asset to the size limit where it is written', () => {
    const decoded = across({ type: 'asset', asset }) as { asset: unknown };
    expect(() => encodeAssetLine(decoded.asset, 50)).toThrow(
      expect.objectContaining({ code: 'ASSET_TOO_LARGE' }) as Error,
    );
  });

  it('refuses an invalid asset in the thread, as the sink would', () => {
    expect(() => encodeItem({ type: 'asset', asset: { typeName: 'x' } })).toThrow(
      expect.objectContaining({ code: 'ASSET_INVALID' }) as Error,
    );
  });

  it('forwards any other kind of event as it is', () => {
    const events = [
      { type: 'checkpoint', cursor: { offset: 3 } },
      { type: 'skipped', kind: 'model', id: 'm-1', reason: 'forbidden' },
      { kind: 'datastore', id: 'ds', name: 'Datastore' },
    ];
    expect(events.map(across)).toEqual(events);
  });
});

describe('chunks crossing from a run thread', () => {
  it('keep items in order, whatever their text holds', () => {
    const items = [
      { type: 'asset', asset: { ...asset, name: 'tab\there, newline\nthere' } },
      { type: 'checkpoint', cursor: { after: 'a\tb\nc' } },
      { type: 'asset', asset },
    ];
    const decoded = decodeChunk(encodeChunk(items.map(encodeItem))) as {
      type: string;
      asset?: unknown;
    }[];
    expect(decoded.map((item) => item.type)).toEqual(['asset', 'checkpoint', 'asset']);
    expect(decoded[1]).toEqual(items[1]);
    expect(encodeAssetLine(decoded[0]!.asset, 1_000_000)).toEqual(
      encodeAssetLine(items[0]!.asset, 1_000_000),
    );
    expect(decodeChunk(encodeChunk([]))).toEqual([]);
  });

  it('refuse an item the core cannot read', () => {
    expect(() => decodeChunk('Xgarbage')).toThrow(
      expect.objectContaining({ code: 'INTERNAL' }) as Error,
    );
  });
});

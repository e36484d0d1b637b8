import { describe, expect, it } from 'vitest';
import { encodeAssetLine } from '../../sink/ndjson.ts';
import { decodeItem, encodeItem } from './protocol.ts';

const asset = {
  typeName: 'CyeraColumn',
  qualifiedName: 'cyera/acme/ds/DB/S/T/EMAIL',
  name: 'EMAIL',
  parentQualifiedName: 'cyera/acme/ds/DB/S/T',
  attributes: { sensitivity: 'Sensitive', note: 'quotes " and \\ and ünïcode' },
};

const across = (item: unknown): unknown => decodeItem(JSON.parse(encodeItem(item)));

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

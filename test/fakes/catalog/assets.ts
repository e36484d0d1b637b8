import type { Asset } from '../../../agent/plugin-api/index.ts';
import { EncodedAssets, encodeAssetLine } from '../../../agent/sink/ndjson.ts';

/**
 * A deterministic asset for position `index` of a synthetic stream: a CyeraTable under a few
 * schemas, with a classification on every third one and padding to vary the line length.
 */
export function syntheticAsset(index: number, options: { readonly prefix?: string } = {}): Asset {
  const prefix = options.prefix ?? 'cyera/tenant-1/ds-1';
  const schema = `schema_${index % 7}`;
  return {
    typeName: 'CyeraTable',
    qualifiedName: `${prefix}/db/${schema}/table_${index}`,
    name: `TABLE_${index}`,
    parentQualifiedName: `${prefix}/db/${schema}`,
    attributes: {
      sensitivity: index % 2 === 0 ? 'Sensitive' : 'NotSensitive',
      columnCount: index % 40,
      note: 'x'.repeat(index % 97),
    },
    ...(index % 3 === 0
      ? {
          classifications: [
            { typeName: 'Email (Cyera Data Class)', attributes: { tokenization: 'Plain' } },
          ],
        }
      : {}),
  };
}

/** Holds taken on a block's lines, and how many of them are not released yet. */
export interface HoldCount {
  taken: number;
  open: number;
}

/**
 * `assets` as a run thread hands them to the core: checked, encoded and back to back, counting
 * in `holds` the holds batch bodies take on their lines.
 */
export function encodedAssets(
  assets: readonly Asset[],
  holds: HoldCount = { taken: 0, open: 0 },
): EncodedAssets {
  const lines = assets.map((asset) => encodeAssetLine(asset, Number.POSITIVE_INFINITY));
  const typeNames = [...new Set(assets.map((asset) => asset.typeName))];
  return new EncodedAssets({
    lines: Buffer.from(lines.map((line) => `${line.json}\n`).join('')),
    lineBytes: Uint32Array.from(lines.map((line) => line.bytes)),
    typeIndex: Uint32Array.from(assets.map((asset) => typeNames.indexOf(asset.typeName))),
    typeNames,
    hold: () => {
      holds.taken += 1;
      holds.open += 1;
      return () => {
        holds.open -= 1;
      };
    },
  });
}

import type { Asset } from '../../../agent/plugin-api/index.ts';

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

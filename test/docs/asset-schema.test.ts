import { readFileSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { syntheticAsset } from '../fakes/catalog/assets.ts';
import { renderAssetSchema } from './asset-schema-doc.ts';

const committed = readFileSync(
  new URL('../../docs/schemas/asset.schema.json', import.meta.url),
  'utf8',
);

describe('docs/schemas/asset.schema.json', () => {
  it('equals the schema generated from AssetSchema (run `npm run docs:gen` after changing it)', async () => {
    expect(committed).toBe(await renderAssetSchema());
  });

  it('accepts an asset the sink accepts and refuses one with an unknown field', () => {
    const validate = new Ajv2020({ strict: true }).compile(JSON.parse(committed) as object);
    expect(validate(syntheticAsset(3))).toBe(true);
    expect(validate({ ...syntheticAsset(3), rows: [['a record']] })).toBe(false);
  });
});

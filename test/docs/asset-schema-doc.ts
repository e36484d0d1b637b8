import { z } from 'zod';
import { AssetSchema, JsonValueSchema } from '../../agent/plugin-api/index.ts';

/**
 * Renders docs/schemas/asset.schema.json from AssetSchema (zod 4's JSON Schema output), the one
 * source of the asset record. The recursive JSON value gets a readable definition name.
 */
export function renderAssetSchema(): string {
  const names = z.registry<{ id: string }>();
  names.add(JsonValueSchema, { id: 'JsonValue' });
  const generated = z.toJSONSchema(AssetSchema, {
    target: 'draft-2020-12',
    metadata: names,
    unrepresentable: 'throw',
  });
  const { $schema, ...rest } = generated;
  const document = {
    $schema,
    title: 'Perimeter asset record',
    description:
      'One line of a catalog batch (gzip NDJSON, docs/protocol/catalog.md): a metadata asset close to the Apache Atlas entity model. Generated from agent/plugin-api/asset.ts by `npm run docs:gen`.',
    ...rest,
  };
  return `${JSON.stringify(document, null, 2)}\n`;
}

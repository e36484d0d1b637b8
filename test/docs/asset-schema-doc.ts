import { fileURLToPath } from 'node:url';
import { format, resolveConfig } from 'prettier';
import { z } from 'zod';
import { AssetSchema, JsonValueSchema } from '../../agent/plugin-api/index.ts';

/** Where the generated schema is committed. */
export const OUTPUT_PATH = fileURLToPath(
  new URL('../../docs/schemas/asset.schema.json', import.meta.url),
);

/**
 * Renders docs/schemas/asset.schema.json from AssetSchema (zod 4's JSON Schema output), the one
 * source of the asset record. The recursive JSON value gets a readable definition name.
 */
export async function renderAssetSchema(): Promise<string> {
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
  // Formatted as `prettier --check .` expects it, so the generated file passes the format check.
  const options = await resolveConfig(OUTPUT_PATH);
  return format(JSON.stringify(document), { ...options, parser: 'json', filepath: OUTPUT_PATH });
}

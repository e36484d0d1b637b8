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
    throw new PerimeterError(
      'ASSET_TOO_LARGE',
      `A ${valid.typeName} asset is ${bytes} bytes as NDJSON, more than catalog.batchMaxBytes (${maxLineBytes})`,
      { context: { typeName: valid.typeName, bytes, batchMaxBytes: maxLineBytes } },
    );
  }
  return { json, bytes };
}

function parseAsset(asset: unknown): ReturnType<typeof AssetSchema.parse> {
  const parsed = AssetSchema.safeParse(asset);
  if (parsed.success) {
    return parsed.data;
  }
  const paths = [...new Set(parsed.error.issues.map((issue) => issue.path.join('.') || '(root)'))];
  const typeName = describeTypeName(asset);
  throw new PerimeterError(
    'ASSET_INVALID',
    `A ${typeName} asset fails the asset schema at ${paths.slice(0, MAX_NAMED_PATHS).join(', ')}`,
    { context: { typeName, paths: paths.slice(0, MAX_NAMED_PATHS) } },
  );
}

function describeTypeName(asset: unknown): string {
  const typeName =
    typeof asset === 'object' && asset !== null
      ? (asset as { typeName?: unknown }).typeName
      : undefined;
  // Echo only a well-formed type name: a malformed one may be a value put in the wrong field.
  if (typeof typeName !== 'string' || !TYPE_NAME_PATTERN.test(typeName)) {
    return '(malformed typeName)';
  }
  return typeName;
}

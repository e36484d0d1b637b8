import { AssetSchema, PerimeterError } from '../plugin-api/index.ts';

const MAX_NAMED_PATHS = 10;
const TYPE_NAME_PATTERN = /^[A-Z][A-Za-z0-9_]{0,127}$/;

/**
 * Validates one asset against the published asset schema and serialises it, once, to its NDJSON
 * line (newline included). The error names the asset's type and the failing paths, never the
 * values: an attribute may hold something the operator must not see in a log.
 */
export function encodeAssetLine(asset: unknown, maxLineBytes: number): Buffer {
  const parsed = AssetSchema.safeParse(asset);
  if (!parsed.success) {
    const paths = [
      ...new Set(parsed.error.issues.map((issue) => issue.path.join('.') || '(root)')),
    ];
    const typeName = describeTypeName(asset);
    throw new PerimeterError(
      'ASSET_INVALID',
      `A ${typeName} asset fails the asset schema at ${paths.slice(0, MAX_NAMED_PATHS).join(', ')}`,
      { context: { typeName, paths: paths.slice(0, MAX_NAMED_PATHS) } },
    );
  }
  const line = Buffer.from(`${JSON.stringify(parsed.data)}\n`, 'utf8');
  if (line.length > maxLineBytes) {
    throw new PerimeterError(
      'ASSET_TOO_LARGE',
      `A ${parsed.data.typeName} asset is ${line.length} bytes as NDJSON, more than catalog.batchMaxBytes (${maxLineBytes})`,
      {
        context: {
          typeName: parsed.data.typeName,
          bytes: line.length,
          batchMaxBytes: maxLineBytes,
        },
      },
    );
  }
  return line;
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

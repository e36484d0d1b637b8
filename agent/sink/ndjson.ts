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
  const encoded = (asset as { [ENCODED_LINE]?: AssetLine } | null | undefined)?.[ENCODED_LINE];
  const valid = encoded === undefined ? (isAsset(asset) ? asset : parseAsset(asset)) : undefined;
  const json = encoded?.json ?? JSON.stringify(valid);
  const bytes = encoded?.bytes ?? Buffer.byteLength(json, 'utf8') + 1;
  if (bytes > maxLineBytes) {
    const typeName = describeTypeName(asset);
    throw new PerimeterError(
      'ASSET_TOO_LARGE',
      `A ${typeName} asset is ${bytes} bytes as NDJSON, more than catalog.batchMaxBytes (${maxLineBytes})`,
      { context: { typeName, bytes, batchMaxBytes: maxLineBytes } },
    );
  }
  return { json, bytes };
}

const ENCODED_LINE = Symbol('perimeter.encodedAssetLine');

/**
 * An asset checked and encoded by {@link encodeAssetLine} elsewhere (a run thread), carried with
 * its line so the sink uses that line as it is: `asset` needs only the fields the core reads
 * (`typeName`, `qualifiedName`, `name`). The size limit is still checked where it is written.
 */
export function withEncodedLine<T extends object>(asset: T, line: AssetLine): T {
  Object.defineProperty(asset, ENCODED_LINE, { value: line, enumerable: false });
  return asset;
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

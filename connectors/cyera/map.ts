import type {
  Asset,
  Classification,
  DiscoveredResource,
  JsonObject,
  JsonValue,
} from '../../agent/plugin-api/index.ts';
import type { ClassificationRecord, ColumnRecord, Datastore, TableLine } from './records.ts';

// Pure record → asset functions. No I/O, no clock: the same record always gives the same asset.

/** Asset types this connector emits. */
export const CYERA_TYPES = {
  datastore: 'CyeraDatastore',
  database: 'CyeraDatabase',
  schema: 'CyeraSchema',
  table: 'CyeraTable',
  column: 'CyeraColumn',
} as const;

/** Suffix of the tag a data class becomes, as Atlan names it. */
export const DATA_CLASS_TAG_SUFFIX = ' (Cyera Data Class)';

// Cyera's sensitivity scale, lowest first (keys of `recordCountBySensitivity`).
const SENSITIVITY_RANK = ['unclassified', 'notsensitive', 'internal', 'sensitive', 'verysensitive'];

/** Where an asset sits: the datastore and the names above it. */
export interface TablePath {
  readonly tenant: string;
  readonly datastoreUid: string;
  readonly databaseName: string;
  readonly schemaName: string;
}

/**
 * `cyera/<tenant>/<segments...>`. A `/` or `%` inside a name is percent-encoded, so names such
 * as `ORDERS/2024` keep the hierarchy unambiguous.
 */
export function qualifiedName(tenant: string, ...segments: readonly string[]): string {
  return ['cyera', tenant, ...segments.map(escapeSegment)].join('/');
}

function escapeSegment(segment: string): string {
  if (!segment.includes('%') && !segment.includes('/')) {
    return segment;
  }
  return segment.replaceAll('%', '%25').replaceAll('/', '%2F');
}

/** A datastore as a root asset, with the issues and access that name no database. */
export function datastoreToAsset(
  tenant: string,
  datastore: Datastore,
  summaries: { readonly issues: JsonObject; readonly identities: JsonObject },
): Asset {
  return {
    typeName: CYERA_TYPES.datastore,
    qualifiedName: qualifiedName(tenant, datastore.uid),
    name: datastore.name,
    attributes: compact({
      uid: datastore.uid,
      provider: datastore.provider,
      type: datastore.type,
      engine: datastore.engine,
      infrastructure: datastore.infrastructure,
      dataType: datastore.dataType,
      regions: datastore.regions,
      accountId: datastore.account?.inPlatformIdentifier,
      accountName: datastore.account?.name,
      sensitivity: datastore.sensitivity,
      sensitivityDisplayName: datastore.sensitivityDisplayName,
      classificationGroups: datastore.classificationGroups,
      frameworks: datastore.frameworks,
      recordCountBySensitivity: datastore.recordCountBySensitivity,
      issueCountsByStatus: datastore.issues,
      scanningState: datastore.scanningState,
      encrypted: datastore.encrypted,
      publicAccessibilityState: datastore.publicAccessibilityState,
      discoveredDate: datastore.discoveredDate,
      lastDataRefresh: datastore.lastDataRefresh,
      datastoreIssues: summaries.issues,
      datastoreIdentities: summaries.identities,
    }),
  };
}

/** A database, carrying its issue and identity-access summaries. */
export function databaseToAsset(
  path: Omit<TablePath, 'schemaName'>,
  summaries: { readonly issues: JsonObject; readonly identities: JsonObject },
): Asset {
  return {
    typeName: CYERA_TYPES.database,
    qualifiedName: qualifiedName(path.tenant, path.datastoreUid, path.databaseName),
    name: path.databaseName,
    parentQualifiedName: qualifiedName(path.tenant, path.datastoreUid),
    attributes: {
      datastoreUid: path.datastoreUid,
      issues: summaries.issues,
      identities: summaries.identities,
    },
  };
}

/** A schema. */
export function schemaToAsset(path: TablePath): Asset {
  return {
    typeName: CYERA_TYPES.schema,
    qualifiedName: schemaQualifiedName(path),
    name: path.schemaName,
    parentQualifiedName: qualifiedName(path.tenant, path.datastoreUid, path.databaseName),
    attributes: { datastoreUid: path.datastoreUid, databaseName: path.databaseName },
  };
}

function schemaQualifiedName(path: TablePath): string {
  return qualifiedName(path.tenant, path.datastoreUid, path.databaseName, path.schemaName);
}

/** A table with its own classifications; column counts come from the line. */
export function tableToAsset(path: TablePath, table: TableLine): Asset {
  const columns = table.columns ?? [];
  const classified = columns.filter((column) => (column.classifications ?? []).length > 0);
  return withClassifications(
    {
      typeName: CYERA_TYPES.table,
      qualifiedName: `${schemaQualifiedName(path)}/${escapeSegment(table.tableName)}`,
      name: table.tableName,
      parentQualifiedName: schemaQualifiedName(path),
      attributes: compact({
        uid: table.uid,
        datastoreUid: path.datastoreUid,
        sensitivity: table.sensitivity,
        sensitivityDisplayName: table.sensitivityDisplayName,
        columnCount: columns.length,
        classifiedColumnCount: classified.length,
      }),
    },
    table.classifications,
  );
}

/**
 * A column of the table whose qualified name is given; `position` is 1-based. Its sensitivity
 * is the highest of its classifications. Called once per column of the stream: built directly,
 * without the intermediate objects of the other mappers.
 */
export function columnToAsset(
  table: { readonly qualifiedName: string; readonly datastoreUid: string },
  column: ColumnRecord,
  position: number,
): Asset {
  const records = column.classifications;
  const attributes: JsonObject = { datastoreUid: table.datastoreUid };
  if (column.dataType != null) {
    attributes['dataType'] = column.dataType;
  }
  attributes['position'] = position;
  const asset: Asset = {
    typeName: CYERA_TYPES.column,
    qualifiedName: `${table.qualifiedName}/${escapeSegment(column.name)}`,
    name: column.name,
    parentQualifiedName: table.qualifiedName,
    attributes,
  };
  if (records == null || records.length === 0) {
    return asset;
  }
  const top = highestSensitivity(records);
  if (top?.sensitivity != null) {
    attributes['sensitivity'] = top.sensitivity;
  }
  if (top?.sensitivityDisplayName != null) {
    attributes['sensitivityDisplayName'] = top.sensitivityDisplayName;
  }
  return withClassifications(asset, records);
}

function withClassifications(
  asset: Asset,
  records: readonly ClassificationRecord[] | null | undefined,
): Asset {
  if (records == null || records.length === 0) {
    return asset;
  }
  const tags = toClassifications(records);
  if (tags.length > 0) {
    // Set on the asset just built (last, as a spread would put it): no copy per column.
    asset.classifications = tags;
  }
  return asset;
}

/**
 * Data classes as tags `<dataClassName> (Cyera Data Class)`. Regional variants of one class
 * ("Address Texas", "Customer Address California") become one tag that lists every original
 * name; it keeps the highest sensitivity and, when the variants disagree, `Plain` if any is
 * plain (a catalog of risk should not hide the weakest protection).
 */
export function toClassifications(records: readonly ClassificationRecord[]): Classification[] {
  const [only] = records;
  if (records.length === 1 && only !== undefined) {
    // Most columns carry one class: the merge of one variant, without the grouping.
    return [{ typeName: tagOf(only), attributes: singleVariant(only) }];
  }
  const byTag = new Map<string, ClassificationRecord[]>();
  for (const record of records) {
    const tag = tagOf(record);
    const variants = byTag.get(tag);
    if (variants === undefined) {
      byTag.set(tag, [record]);
    } else {
      variants.push(record);
    }
  }
  return [...byTag].map(([typeName, variants]) => ({
    typeName,
    attributes: mergeVariants(variants),
  }));
}

function tagOf(record: ClassificationRecord): string {
  return `${record.dataClassName ?? record.name ?? ''}${DATA_CLASS_TAG_SUFFIX}`;
}

/** What {@link mergeVariants} makes of one variant, built directly. */
function singleVariant(record: ClassificationRecord): JsonObject {
  const attributes: JsonObject = {};
  const name = record.classificationName ?? record.dataClassName ?? record.name ?? '';
  attributes['classificationNames'] = name === '' ? [] : [name];
  if (record.classificationGroup != null) {
    attributes['classificationGroup'] = record.classificationGroup;
  }
  if (record.sensitivity != null) {
    attributes['sensitivity'] = record.sensitivity;
  }
  if (record.sensitivityDisplayName != null) {
    attributes['sensitivityDisplayName'] = record.sensitivityDisplayName;
  }
  const tokenization = tokenizationOf(record);
  if (tokenization != null) {
    attributes['tokenization'] = tokenization;
  }
  return attributes;
}

function mergeVariants(variants: readonly ClassificationRecord[]): JsonObject {
  const top = highestSensitivity(variants) ?? variants[0];
  const tokenizations = variants.map(tokenizationOf).filter((value) => value !== undefined);
  const plain = tokenizations.find((value) => value.toLowerCase() === 'plain');
  const names = [
    ...new Set(variants.map((v) => v.classificationName ?? v.dataClassName ?? v.name ?? '')),
  ];
  return compact({
    classificationNames: names.filter((name) => name !== ''),
    classificationGroup: variants[0]?.classificationGroup,
    sensitivity: top?.sensitivity,
    sensitivityDisplayName: top?.sensitivityDisplayName,
    tokenization: plain ?? tokenizations[0],
  });
}

function tokenizationOf(record: ClassificationRecord): string | undefined {
  return record.context?.tokenization ?? record.tokenization ?? undefined;
}

function highestSensitivity<T extends { readonly sensitivity?: string | null }>(
  records: readonly T[],
): T | undefined {
  const [only] = records;
  if (records.length === 1) {
    // One record (most columns): the highest is it, when it has a sensitivity.
    return only?.sensitivity != null ? only : undefined;
  }
  let best: T | undefined;
  let bestRank = -2;
  for (const record of records) {
    const rank = SENSITIVITY_RANK.indexOf(record.sensitivity?.toLowerCase() ?? '');
    if (record.sensitivity != null && rank > bestRank) {
      best = record;
      bestRank = rank;
    }
  }
  return best;
}

/** A datastore as a selectable resource for a control-plane dropdown. */
export function datastoreToResource(datastore: Datastore): DiscoveredResource {
  return {
    kind: 'datastore',
    id: datastore.uid,
    name: datastore.name,
    attributes: compact({
      type: datastore.type,
      provider: datastore.provider,
      engine: datastore.engine,
    }),
  };
}

/** Drops null and undefined values, so attributes hold only what the source said. */
function compact(values: Record<string, JsonValue | undefined>): JsonObject {
  const result: JsonObject = {};
  for (const [key, value] of Object.entries(values)) {
    if (value != null) {
      result[key] = value;
    }
  }
  return result;
}

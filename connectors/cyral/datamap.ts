import type { Asset, Classification, Relationship } from '../../agent/plugin-api/index.ts';
import { CYRAL_TYPES, DATA_LABEL_TAG_SUFFIX, child, dataMapRoot, qn } from './names.ts';
import type { DataMap } from './records.ts';

// A repository's data map (label → `schema.table.column` locations) turned into schema, table
// and column assets, each column tagged with its labels. Pure: no I/O, no clock.

/** schema → table → column → labels, every level sorted when read. */
export type DataMapTree = Map<string, Map<string, Map<string, string[]>>>;

/** The tree of a data map, and the locations that were not `schema.table.column`. */
export interface ParsedDataMap {
  readonly tree: DataMapTree;
  /** Locations with fewer than three dotted parts (counted and skipped, never emitted). */
  readonly invalidLocations: number;
}

/**
 * Splits each location into schema, table and column. The column is the last part and the table
 * the one before it; what precedes is the schema (a Dremio space path keeps its dots). A location
 * listed under two labels (which Cyral does not allow) gets both.
 */
export function parseDataMap(dataMap: DataMap): ParsedDataMap {
  const tree: DataMapTree = new Map();
  let invalidLocations = 0;
  for (const [label, { attributes }] of Object.entries(dataMap.labels ?? {})) {
    for (const location of attributes ?? []) {
      const parts = location.split('.');
      const column = parts.pop();
      const table = parts.pop();
      if (column === undefined || table === undefined || parts.length === 0) {
        invalidLocations += 1;
        continue;
      }
      if (column === '' || table === '' || parts.some((part) => part === '')) {
        invalidLocations += 1;
        continue;
      }
      const schema = parts.join('.');
      const tables = getOrSet(tree, schema, () => new Map<string, Map<string, string[]>>());
      const columns = getOrSet(tables, table, () => new Map<string, string[]>());
      const labels = getOrSet(columns, column, () => []);
      if (!labels.includes(label)) {
        labels.push(label);
      }
    }
  }
  return { tree, invalidLocations };
}

/** Where the data map belongs, and which labels exist as assets of the run. */
export interface DataMapScope {
  readonly tenant: string;
  readonly repoId: string;
  readonly knownLabels: ReadonlySet<string>;
}

/** Schema, table and column assets of a parsed data map, in name order. */
export function* dataMapAssets(scope: DataMapScope, tree: DataMapTree): Generator<Asset> {
  const root = dataMapRoot(scope.tenant, scope.repoId);
  const repository = qn.repository(scope.tenant, scope.repoId);
  const labelTargets = new Map<string, string>();
  for (const [schema, tables] of sorted(tree)) {
    const schemaName = child(root, schema);
    yield {
      typeName: CYRAL_TYPES.schema,
      qualifiedName: schemaName,
      name: schema,
      parentQualifiedName: repository,
      attributes: { repoId: scope.repoId, tableCount: tables.size },
    };
    for (const [table, columns] of sorted(tables)) {
      const tableName = child(schemaName, table);
      yield {
        typeName: CYRAL_TYPES.table,
        qualifiedName: tableName,
        name: table,
        parentQualifiedName: schemaName,
        attributes: { repoId: scope.repoId, schemaName: schema, labeledColumnCount: columns.size },
      };
      for (const [column, labels] of sorted(columns)) {
        yield columnAsset(scope, labelTargets, { tableName, column, labels: [...labels].sort() });
      }
    }
  }
}

/** Called once per column of the data map: one pass over its labels, label names made once. */
function columnAsset(
  scope: DataMapScope,
  labelTargets: Map<string, string>,
  column: { readonly tableName: string; readonly column: string; readonly labels: string[] },
): Asset {
  const classifications: Classification[] = [];
  const relationships: Relationship[] = [];
  for (const label of column.labels) {
    classifications.push({ typeName: `${label}${DATA_LABEL_TAG_SUFFIX}` });
    if (scope.knownLabels.has(label)) {
      let target = labelTargets.get(label);
      if (target === undefined) {
        target = qn.dataLabel(scope.tenant, label);
        labelTargets.set(label, target);
      }
      relationships.push({ typeName: 'CyralColumnDataLabel', targetQualifiedName: target });
    }
  }
  const asset: Asset = {
    typeName: CYRAL_TYPES.column,
    qualifiedName: child(column.tableName, column.column),
    name: column.column,
    parentQualifiedName: column.tableName,
    attributes: { repoId: scope.repoId, dataLabels: column.labels },
    classifications,
  };
  if (relationships.length > 0) {
    asset.relationships = relationships;
  }
  return asset;
}

function getOrSet<K, V>(map: Map<K, V>, key: K, make: () => V): V {
  let value = map.get(key);
  if (value === undefined) {
    value = make();
    map.set(key, value);
  }
  return value;
}

function sorted<V>(map: ReadonlyMap<string, V>): [string, V][] {
  return [...map].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

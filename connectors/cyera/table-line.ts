import type { ClassificationRecord, ColumnRecord, TableLine } from './records.ts';

// A hand-compiled form of TableLineSchema (records.ts) for the table stream, read once per line
// of millions: the same rules, and the same stripping (only named fields are copied, so no other
// field of Cyera's answer enters the connector's objects), without a zod parse per column. It
// answers the table or `undefined`; on `undefined` the stream runs the zod schema, which names
// what is wrong. table-line.test.ts keeps the two in agreement.

type Fields = Record<string, unknown>;

const MAX_TEXT = 1024;

/** The table line `value` holds, stripped to the named fields; undefined when it breaks a rule. */
export function readTableLine(value: unknown): TableLine | undefined {
  if (!isObject(value)) {
    return undefined;
  }
  const table: Fields = {};
  const ok =
    copyText(value, table, 'uid', 0, 256) &&
    copyText(value, table, 'datastoreUid', 0, 128) &&
    copyName(value, table, 'databaseName') &&
    copyName(value, table, 'schemaName') &&
    copyName(value, table, 'tableName') &&
    copyText(value, table, 'sensitivity', 0, MAX_TEXT) &&
    copyText(value, table, 'sensitivityDisplayName', 0, MAX_TEXT) &&
    copyList(value, table, 'classifications', 1000, readClassification) &&
    copyList(value, table, 'columns', 100_000, readColumn);
  return ok ? (table as unknown as TableLine) : undefined;
}

function readColumn(value: unknown): ColumnRecord | undefined {
  if (!isObject(value)) {
    return undefined;
  }
  const column: Fields = {};
  const ok =
    copyName(value, column, 'name') &&
    copyText(value, column, 'dataType', 0, MAX_TEXT) &&
    copyList(value, column, 'classifications', 1000, readClassification);
  return ok ? (column as unknown as ColumnRecord) : undefined;
}

function readClassification(value: unknown): ClassificationRecord | undefined {
  if (!isObject(value)) {
    return undefined;
  }
  const record: Fields = {};
  const ok =
    copyText(value, record, 'uid', 0, MAX_TEXT) &&
    copyText(value, record, 'dataClassName', 1, 256) &&
    copyText(value, record, 'name', 1, 256) &&
    copyText(value, record, 'classificationName', 0, MAX_TEXT) &&
    copyText(value, record, 'classificationGroup', 0, MAX_TEXT) &&
    copyText(value, record, 'sensitivity', 0, MAX_TEXT) &&
    copyText(value, record, 'sensitivityDisplayName', 0, MAX_TEXT) &&
    copyText(value, record, 'tokenization', 0, MAX_TEXT) &&
    copyContext(value, record) &&
    (record['dataClassName'] ?? record['name']) != null;
  return ok ? record : undefined;
}

function copyContext(from: Fields, to: Fields): boolean {
  const context = from['context'];
  if (context === undefined || context === null) {
    if (context === null) {
      to['context'] = null;
    }
    return true;
  }
  if (!isObject(context)) {
    return false;
  }
  const copy: Fields = {};
  to['context'] = copy;
  return copyText(context, copy, 'tokenization', 0, MAX_TEXT);
}

/** A required string of 1 to 1024 characters. */
function copyName(from: Fields, to: Fields, key: string): boolean {
  const value = from[key];
  if (typeof value !== 'string' || value.length < 1 || value.length > MAX_TEXT) {
    return false;
  }
  to[key] = value;
  return true;
}

/** An optional string (null, absent or `min`..`max` characters). */
function copyText(from: Fields, to: Fields, key: string, min: number, max: number): boolean {
  const value = from[key];
  if (value === undefined) {
    return true;
  }
  if (value !== null && (typeof value !== 'string' || value.length < min || value.length > max)) {
    return false;
  }
  to[key] = value;
  return true;
}

/** An optional list (null, absent or at most `max` items, each read by `read`). */
function copyList(
  from: Fields,
  to: Fields,
  key: string,
  max: number,
  read: (item: unknown) => object | undefined,
): boolean {
  const value = from[key];
  if (value === undefined) {
    return true;
  }
  if (value === null) {
    to[key] = null;
    return true;
  }
  if (!Array.isArray(value) || value.length > max) {
    return false;
  }
  const items: object[] = [];
  for (const item of value as unknown[]) {
    const copy = read(item);
    if (copy === undefined) {
      return false;
    }
    items.push(copy);
  }
  to[key] = items;
  return true;
}

function isObject(value: unknown): value is Fields {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

import type { TableLine } from './records.ts';

// A hand-compiled form of TableLineSchema (records.ts) for the table stream, read once per line
// of millions: the same rules, and the same stripping (a field the schema does not name is
// removed, so no other field of Cyera's answer enters the connector's objects), without a zod
// parse per column. It answers the table or `undefined`; on `undefined` the stream runs the zod
// schema, which names what is wrong. table-line.test.ts keeps the two in agreement.
//
// No copy: the line is checked and stripped where it lies. It takes the value over, which is
// what `JSON.parse` made for this line alone (an object of the source, or a field of it, is never
// shared with anything else); a field the schema does not name is deleted, and an object without
// such fields (the common case for columns) is kept exactly as parsed.

type Fields = Record<string, unknown>;

const MAX_TEXT = 1024;

const TABLE_FIELDS = new Set([
  'uid',
  'datastoreUid',
  'databaseName',
  'schemaName',
  'tableName',
  'sensitivity',
  'sensitivityDisplayName',
  'classifications',
  'columns',
]);
const COLUMN_FIELDS = new Set(['name', 'dataType', 'classifications']);
const CLASSIFICATION_FIELDS = new Set([
  'uid',
  'dataClassName',
  'name',
  'classificationName',
  'classificationGroup',
  'sensitivity',
  'sensitivityDisplayName',
  'tokenization',
  'context',
]);
const CONTEXT_FIELDS = new Set(['tokenization']);

/**
 * The table line `value` holds, stripped to the named fields in place; undefined when it breaks
 * a rule (then `value` may be partly stripped: of fields the schema does not read).
 */
export function readTableLine(value: unknown): TableLine | undefined {
  const ok =
    isObject(value) &&
    isText(value['uid'], 0, 256) &&
    isText(value['datastoreUid'], 0, 128) &&
    isName(value['databaseName']) &&
    isName(value['schemaName']) &&
    isName(value['tableName']) &&
    isText(value['sensitivity'], 0, MAX_TEXT) &&
    isText(value['sensitivityDisplayName'], 0, MAX_TEXT) &&
    isList(value['classifications'], 1000, isClassification) &&
    isList(value['columns'], 100_000, isColumn);
  return ok ? (strip(value, TABLE_FIELDS) as unknown as TableLine) : undefined;
}

function isColumn(value: unknown): boolean {
  return (
    isObject(value) &&
    isName(value['name']) &&
    isText(value['dataType'], 0, MAX_TEXT) &&
    isList(value['classifications'], 1000, isClassification) &&
    strip(value, COLUMN_FIELDS) === value
  );
}

function isClassification(value: unknown): boolean {
  return (
    isObject(value) &&
    isText(value['uid'], 0, MAX_TEXT) &&
    isText(value['dataClassName'], 1, 256) &&
    isText(value['name'], 1, 256) &&
    isText(value['classificationName'], 0, MAX_TEXT) &&
    isText(value['classificationGroup'], 0, MAX_TEXT) &&
    isText(value['sensitivity'], 0, MAX_TEXT) &&
    isText(value['sensitivityDisplayName'], 0, MAX_TEXT) &&
    isText(value['tokenization'], 0, MAX_TEXT) &&
    isContext(value['context']) &&
    (value['dataClassName'] ?? value['name']) != null &&
    strip(value, CLASSIFICATION_FIELDS) === value
  );
}

function isContext(value: unknown): boolean {
  if (value === undefined || value === null) {
    return true;
  }
  return (
    isObject(value) &&
    isText(value['tokenization'], 0, MAX_TEXT) &&
    strip(value, CONTEXT_FIELDS) === value
  );
}

/** A required string of 1 to 1024 characters. */
function isName(value: unknown): boolean {
  return typeof value === 'string' && value.length >= 1 && value.length <= MAX_TEXT;
}

/** An optional string (null, absent or `min`..`max` characters). */
function isText(value: unknown, min: number, max: number): boolean {
  return (
    value === undefined ||
    value === null ||
    (typeof value === 'string' && value.length >= min && value.length <= max)
  );
}

/** An optional list (null, absent or at most `max` items, each passing `check`). */
function isList(value: unknown, max: number, check: (item: unknown) => boolean): boolean {
  if (value === undefined || value === null) {
    return true;
  }
  if (!Array.isArray(value) || value.length > max) {
    return false;
  }
  for (const item of value as unknown[]) {
    if (!check(item)) {
      return false;
    }
  }
  return true;
}

/** Deletes the fields of `value` not in `named`; answers it. */
function strip(value: Fields, named: ReadonlySet<string>): Fields {
  for (const key in value) {
    if (!named.has(key)) {
      Reflect.deleteProperty(value, key);
    }
  }
  return value;
}

function isObject(value: unknown): value is Fields {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

import type { Asset } from './asset.ts';

// A hand-compiled form of AssetSchema (asset.ts) for the sink's hot path: the same rules,
// checked by direct property reads instead of a zod parse, at a fraction of its cost per asset.
// It only answers yes or no; on a no the sink runs the zod schema, which names what is wrong.
// asset-check.test.ts keeps the two in agreement on valid assets and on every rule broken.

const TYPE_NAME = /^[A-Z][A-Za-z0-9_]*$/;
const MAX_NAME = 4096;
const ASSET_KEYS = new Set([
  'typeName',
  'qualifiedName',
  'name',
  'parentQualifiedName',
  'attributes',
  'classifications',
  'relationships',
]);

/** True when `value` satisfies AssetSchema exactly (and is made of plain JSON values). */
export function isAsset(value: unknown): value is Asset {
  if (!isPlainObject(value)) {
    return false;
  }
  for (const key in value) {
    if (!ASSET_KEYS.has(key)) {
      return false;
    }
  }
  const { typeName, qualifiedName, name, parentQualifiedName, attributes } = value;
  return (
    typeof typeName === 'string' &&
    TYPE_NAME.test(typeName) &&
    isName(qualifiedName) &&
    typeof name === 'string' &&
    name.length <= 1024 &&
    (parentQualifiedName === undefined || isName(parentQualifiedName)) &&
    isJsonRecord(attributes) &&
    isOptionalArrayOf(value['classifications'], isClassification) &&
    isOptionalArrayOf(value['relationships'], isRelationship)
  );
}

function isName(value: unknown): boolean {
  return typeof value === 'string' && value.length >= 1 && value.length <= MAX_NAME;
}

function isClassification(value: unknown): boolean {
  if (!isPlainObject(value)) {
    return false;
  }
  for (const key in value) {
    if (key !== 'typeName' && key !== 'attributes') {
      return false;
    }
  }
  const { typeName, attributes } = value;
  return (
    typeof typeName === 'string' &&
    typeName.length >= 1 &&
    typeName.length <= 512 &&
    (attributes === undefined || isJsonRecord(attributes))
  );
}

function isRelationship(value: unknown): boolean {
  if (!isPlainObject(value)) {
    return false;
  }
  for (const key in value) {
    if (key !== 'typeName' && key !== 'targetQualifiedName') {
      return false;
    }
  }
  return (
    typeof value['typeName'] === 'string' &&
    TYPE_NAME.test(value['typeName']) &&
    isName(value['targetQualifiedName'])
  );
}

function isOptionalArrayOf(value: unknown, check: (item: unknown) => boolean): boolean {
  return value === undefined || isArrayOf(value, check);
}

/** Every index is read (a hole reads as undefined), as the zod parse does. */
function isArrayOf(value: unknown, check: (item: unknown) => boolean): boolean {
  if (!Array.isArray(value)) {
    return false;
  }
  for (const item of value as unknown[]) {
    if (!check(item)) {
      return false;
    }
  }
  return true;
}

function isJsonRecord(value: unknown): boolean {
  if (!isPlainObject(value)) {
    return false;
  }
  for (const key in value) {
    if (!isJsonValue(value[key])) {
      return false;
    }
  }
  return true;
}

function isJsonValue(value: unknown): boolean {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return true;
    case 'number':
      return Number.isFinite(value);
    case 'object':
      return (
        value === null ||
        (Array.isArray(value) ? isArrayOf(value, isJsonValue) : isJsonRecord(value))
      );
    case 'bigint':
    case 'function':
    case 'symbol':
    case 'undefined':
      return false;
  }
}

/** An object literal (or `Object.create(null)`): what JSON.stringify writes as the zod output. */
function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) {
    return false;
  }
  const prototype: unknown = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

import type { z } from 'zod';

/** What a leaf setting is, for env coercion and the generated reference table. */
export type SettingKind = 'string' | 'number' | 'boolean' | 'enum' | 'list' | 'map' | 'other';

/** One setting of the config schema, found by walking it. */
export interface SettingInfo {
  readonly path: readonly string[];
  readonly kind: SettingKind;
  readonly description: string;
  readonly defaultValue: unknown;
  readonly required: boolean;
  /** Enum values, for the docs. */
  readonly values?: readonly string[];
}

interface ZodDef {
  readonly type: string;
  readonly innerType?: z.ZodType;
  readonly in?: z.ZodType;
  readonly defaultValue?: unknown;
  readonly entries?: Readonly<Record<string, string>>;
  readonly shape?: Readonly<Record<string, z.ZodType>>;
  readonly element?: z.ZodType;
}

const def = (schema: z.ZodType): ZodDef => (schema as unknown as { def: ZodDef }).def;
const WRAPPERS = new Set(['default', 'prefault', 'optional', 'nullable', 'readonly', 'catch']);

/** Strips default/optional/pipe wrappers, keeping the first description and default seen. */
function unwrap(schema: z.ZodType): {
  inner: z.ZodType;
  description: string | undefined;
  defaultValue: unknown;
  required: boolean;
} {
  let inner = schema;
  let description = schema.description;
  let defaultValue: unknown;
  let required = true;
  for (;;) {
    const d = def(inner);
    if (d.type === 'default' || d.type === 'prefault') {
      defaultValue ??= d.defaultValue;
      required = false;
    }
    if (d.type === 'optional') {
      required = false;
    }
    const next = WRAPPERS.has(d.type) ? d.innerType : d.type === 'pipe' ? d.in : undefined;
    if (next === undefined) {
      return { inner, description, defaultValue, required };
    }
    inner = next;
    description ??= inner.description;
  }
}

function kindOf(d: ZodDef): SettingKind {
  switch (d.type) {
    case 'string':
      return 'string';
    case 'number':
    case 'int':
      return 'number';
    case 'boolean':
      return 'boolean';
    case 'enum':
      return 'enum';
    case 'array':
      // A list of objects (`jobs`) is YAML-only, like a map.
      return d.element !== undefined && def(unwrap(d.element).inner).type === 'object'
        ? 'other'
        : 'list';
    case 'record':
      return 'map';
    default:
      return 'other';
  }
}

/**
 * Lists every leaf setting of an object schema. Nested objects are walked; records (maps keyed
 * by names the operator chooses) are one leaf each, set only in the YAML file.
 */
export function walkSettings(schema: z.ZodType, path: readonly string[] = []): SettingInfo[] {
  const { inner } = unwrap(schema);
  const shape = (inner as unknown as { shape?: Record<string, z.ZodType> }).shape;
  if (def(inner).type !== 'object' || shape === undefined) {
    return [];
  }
  return Object.entries(shape).flatMap(([key, child]) => {
    const info = unwrap(child);
    const d = def(info.inner);
    const childPath = [...path, key];
    if (d.type === 'object') {
      return walkSettings(child, childPath);
    }
    const values = d.type === 'enum' && d.entries ? Object.values(d.entries) : undefined;
    return [
      {
        path: childPath,
        kind: kindOf(d),
        description: info.description ?? '',
        defaultValue: info.defaultValue,
        required: info.required,
        ...(values ? { values } : {}),
      },
    ];
  });
}

import { z } from 'zod';

/** A JSON value: what checkpoints, asset attributes and params are made of. */
export type JsonValue =
  string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** Zod schema of {@link JsonValue} (finite numbers only). */
export const JsonValueSchema: z.ZodType<JsonValue> = z.lazy(() =>
  z.union([
    z.string(),
    z.number().refine(Number.isFinite, 'must be a finite number'),
    z.boolean(),
    z.null(),
    z.array(JsonValueSchema),
    z.record(z.string(), JsonValueSchema),
  ]),
);

/** A JSON object. */
export type JsonObject = Record<string, JsonValue>;

/**
 * Whether `value` holds objects or arrays more than `levels` deep. Every parser of outside input
 * checks this before a recursive schema or walk, so that a payload nested thousands deep is
 * refused with a coded error rather than blowing the stack. Looks no deeper than `levels`.
 */
export function nestsDeeperThan(value: unknown, levels: number): boolean {
  if (typeof value !== 'object' || value === null) {
    return false;
  }
  if (levels === 0) {
    return true;
  }
  return Object.values(value).some((child) => nestsDeeperThan(child, levels - 1));
}

import { z } from 'zod';

// Field schemas shared by the response schemas of the Cyral connector.

export const id = z.string().min(1).max(256);
export const text = z.string().max(4096).nullish();
export const flag = z.boolean().nullish();
export const names = z.array(z.string().max(1024)).max(10_000).nullish();
export const port = z.int().min(0).max(65_535).nullish();

/**
 * The keys of an object whose value is set: `{awsIAM: {...}, cyralStorage: null}` → `['awsIAM']`.
 * Used where the key names the kind and the value may hold a secret.
 */
export function kindsOf(): z.ZodType<string[]> {
  return z
    .record(z.string().max(128), z.unknown())
    .nullish()
    .transform((value) =>
      Object.entries(value ?? {})
        .filter(([, body]) => body != null)
        .map(([kind]) => kind)
        .sort(),
    );
}

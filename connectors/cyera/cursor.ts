import { z } from 'zod';
import type { JsonValue, Logger } from '../../agent/plugin-api/index.ts';

/**
 * The checkpoint cursor: the datastores whose every asset came before it, and, inside the
 * datastore being read, how many stream records came before it and the last one's identity.
 */
const CursorSchema = z.object({
  finishedDatastoreUids: z.array(z.string()),
  current: z
    .object({
      datastoreUid: z.string(),
      records: z.int().min(1),
      lastKey: z.string(),
    })
    .optional(),
});

/** A parsed checkpoint cursor. */
export type CyeraCursor = z.infer<typeof CursorSchema>;

/** Where the datastore being read stopped. */
export type DatastorePosition = NonNullable<CyeraCursor['current']>;

/** Reads `ctx.cursor`; a cursor of unknown shape means starting over. */
export function parseCursor(cursor: JsonValue | undefined, logger: Logger): CyeraCursor {
  if (cursor === undefined) {
    return { finishedDatastoreUids: [] };
  }
  const parsed = CursorSchema.safeParse(cursor);
  if (!parsed.success) {
    // Not ours (an older format?): extracting everything again is safe, skipping is not.
    logger.warn({}, 'Ignoring a Cyera checkpoint of unknown shape; extracting every datastore');
    return { finishedDatastoreUids: [] };
  }
  return parsed.data;
}

/** A cursor as JSON: finished uids sorted, the position only while inside a datastore. */
export function cursorJson(
  finished: ReadonlySet<string>,
  current: DatastorePosition | undefined,
): JsonValue {
  const finishedDatastoreUids = [...finished].sort();
  return current === undefined
    ? { finishedDatastoreUids }
    : { finishedDatastoreUids, current: { ...current } };
}

import { z } from 'zod';
import type { JsonValue, Logger } from '../../agent/plugin-api/index.ts';

/** The checkpoint cursor: workspaces and models whose every asset came before it. */
const CursorSchema = z.object({
  workspaceIds: z.array(z.string()),
  modelIds: z.array(z.string()),
});

/** A parsed checkpoint cursor, as sets. */
export interface AnaplanCursor {
  readonly workspaceIds: Set<string>;
  readonly modelIds: Set<string>;
}

/** Reads `ctx.cursor`; a cursor of unknown shape means starting over. */
export function parseCursor(cursor: JsonValue | undefined, logger: Logger): AnaplanCursor {
  const parsed = cursor === undefined ? undefined : CursorSchema.safeParse(cursor);
  if (parsed !== undefined && !parsed.success) {
    // Not ours (an older format?): extracting everything again is safe, skipping is not.
    logger.warn({}, 'Ignoring an Anaplan checkpoint of unknown shape; extracting everything');
  }
  const data = parsed?.data;
  return { workspaceIds: new Set(data?.workspaceIds), modelIds: new Set(data?.modelIds) };
}

/** A cursor as JSON, ids sorted. */
export function cursorJson(cursor: AnaplanCursor): JsonValue {
  return { workspaceIds: [...cursor.workspaceIds].sort(), modelIds: [...cursor.modelIds].sort() };
}

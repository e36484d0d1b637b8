import type { ReviewMode } from '../run/settings.ts';
import type { RedisClient } from './redis.ts';

/** How long a held run remembers its connection: long enough for an operator to decide. */
const HELD_TTL_SECONDS = 90 * 24 * 3600;

/**
 * Which connections were reviewed, kept in Redis: a held run remembers its connection key, and
 * approving it marks that connection reviewed, so under `first` its later extracts push directly.
 */
export interface ReviewMarks {
  /** Whether an extract of this connection goes to the review area under `mode`. */
  mustReview(connectionKey: string, mode: ReviewMode): Promise<boolean>;
  /** A run of this connection was held for review. */
  held(runId: string, connectionKey: string): Promise<void>;
  /** A held run was approved: its connection counts as reviewed from now on. */
  approved(runId: string): Promise<void>;
}

export function createReviewMarks(options: {
  readonly client: RedisClient;
  readonly prefix: string;
}): ReviewMarks {
  const { client, prefix } = options;
  const heldKey = (runId: string): string => `${prefix}:review:held:${runId}`;
  const reviewedKey = (connectionKey: string): string =>
    `${prefix}:review:reviewed:${connectionKey}`;
  return {
    async mustReview(connectionKey, mode) {
      if (mode === 'off') {
        return false;
      }
      return mode === 'every' || (await client.exists(reviewedKey(connectionKey))) === 0;
    },
    async held(runId, connectionKey) {
      await client.set(heldKey(runId), connectionKey, 'EX', HELD_TTL_SECONDS);
    },
    async approved(runId) {
      const connectionKey = await client.get(heldKey(runId));
      if (connectionKey !== null) {
        await client.set(reviewedKey(connectionKey), new Date().toISOString());
      }
    },
  };
}

import type { RedisClient } from './redis.ts';

/**
 * Remembers run ids for a while, beyond the job's own life in the queue (completed jobs are
 * trimmed), so a run instruction delivered again after its run finished does not run twice, and
 * a schedule tick announces itself (`queued`) once however often it is retried.
 */
export interface RunLedger {
  /** Records the run id; false when it was already known. */
  markSeen(runId: string): Promise<boolean>;
  /** Forgets the run id (its enqueue failed, so a redelivery must retry it). */
  forget(runId: string): Promise<void>;
}

/** Builds the ledger on Redis: one key per run id with a TTL (SET NX EX). */
export function createRunLedger(options: {
  readonly client: RedisClient;
  readonly prefix: string;
  readonly ttlSeconds: number;
}): RunLedger {
  const keyOf = (runId: string): string => `${options.prefix}:runs:seen:${runId}`;
  return {
    async markSeen(runId) {
      return (await options.client.set(keyOf(runId), '1', 'EX', options.ttlSeconds, 'NX')) !== null;
    },
    async forget(runId) {
      await options.client.del(keyOf(runId));
    },
  };
}

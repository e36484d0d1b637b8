import type { Logger } from '../plugin-api/index.ts';
import { MAX_POLL_WAIT_SECONDS } from './settings.ts';
import type { HeartbeatReply } from './types.ts';

/** The link's current timings: from the settings, then as heartbeat replies change them. */
export interface Intervals {
  pollWaitSeconds: number;
  heartbeatIntervalMs: number;
}

/** Bounds of the heartbeat interval a reply may set, in seconds. */
export const HEARTBEAT_REPLY_BOUNDS = { min: 1, max: 3600 } as const;

/**
 * Adopts the intervals a heartbeat reply asks for, clamped to sane ranges (poll wait 0 to 25 s,
 * heartbeat 1 s to 1 h): a control plane cannot make the agent spin or fall silent.
 */
export function adoptReply(reply: HeartbeatReply, intervals: Intervals, logger: Logger): void {
  const before = { ...intervals };
  if (reply.pollWaitSeconds !== undefined) {
    intervals.pollWaitSeconds = clamp(Math.round(reply.pollWaitSeconds), 0, MAX_POLL_WAIT_SECONDS);
  }
  if (reply.heartbeatIntervalSeconds !== undefined) {
    const seconds = clamp(
      reply.heartbeatIntervalSeconds,
      HEARTBEAT_REPLY_BOUNDS.min,
      HEARTBEAT_REPLY_BOUNDS.max,
    );
    intervals.heartbeatIntervalMs = Math.round(seconds * 1000);
  }
  if (
    before.pollWaitSeconds !== intervals.pollWaitSeconds ||
    before.heartbeatIntervalMs !== intervals.heartbeatIntervalMs
  ) {
    logger.info(
      {
        pollWaitSeconds: intervals.pollWaitSeconds,
        heartbeatIntervalMs: intervals.heartbeatIntervalMs,
      },
      'Control plane changed the link intervals',
    );
  }
}

function clamp(value: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, value));
}

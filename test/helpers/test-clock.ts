// Clocks for tests that drive real sockets, where fake timers would also stop the servers' and
// clients' own timers: only the waits that go through the timing toolkit's Clock are controlled.
import type { Clock } from '../../agent/plugin-api/index.ts';

/** A clock that records every wait asked of it. */
export interface RecordingClock extends Clock {
  /** The delay of every wait scheduled so far, in order. */
  readonly delaysMs: readonly number[];
  /** Waits scheduled and not yet ended or cancelled. */
  readonly pending: number;
}

/**
 * Waits end at once (on the next turn of the event loop) whatever their length, so a test sees
 * the retries a 10-minute backoff would lead to without waiting for it, and checks the delays.
 */
export function instantClock(): RecordingClock {
  return recordingClock(true);
}

/** Waits never end by themselves: a test aborts them, or asserts they were asked for. */
export function heldClock(): RecordingClock {
  return recordingClock(false);
}

function recordingClock(instant: boolean): RecordingClock {
  const delaysMs: number[] = [];
  let pending = 0;
  return {
    delaysMs,
    get pending() {
      return pending;
    },
    now: () => Date.now(),
    schedule: (callback, delayMs) => {
      delaysMs.push(delayMs);
      pending += 1;
      let live = true;
      const end = (): void => {
        if (live) {
          live = false;
          pending -= 1;
        }
      };
      const immediate = instant
        ? setImmediate(() => {
            end();
            callback();
          })
        : undefined;
      return () => {
        end();
        if (immediate !== undefined) {
          clearImmediate(immediate);
        }
      };
    },
  };
}

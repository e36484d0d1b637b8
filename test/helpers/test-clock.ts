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

/** A clock whose waits end only when the test says so. */
export interface HeldClock extends RecordingClock {
  /** Ends every wait pending now (as if its time had come); returns how many it ended. */
  releaseAll(): number;
}

/**
 * Waits never end by themselves: a test aborts them, asserts they were asked for, or releases
 * them, so that the next turn of a loop happens exactly when the test lets it.
 */
export function heldClock(): HeldClock {
  return recordingClock(false);
}

function recordingClock(instant: boolean): HeldClock {
  const delaysMs: number[] = [];
  const held = new Set<() => void>();
  return {
    delaysMs,
    get pending() {
      return held.size;
    },
    releaseAll: () => {
      const due = [...held];
      due.forEach((release) => {
        release();
      });
      return due.length;
    },
    now: () => Date.now(),
    schedule: (callback, delayMs) => {
      delaysMs.push(delayMs);
      const end = (): boolean => held.delete(release);
      const release = (): void => {
        if (end()) {
          callback();
        }
      };
      held.add(release);
      const immediate = instant ? setImmediate(release) : undefined;
      return () => {
        end();
        if (immediate !== undefined) {
          clearImmediate(immediate);
        }
      };
    },
  };
}

import { Backoff, sleep } from '../plugin-api/index.ts';
import type { BackoffPolicy, Clock, PerimeterError } from '../plugin-api/index.ts';
import type { LinkCall, LinkTracker } from './tracker.ts';

/** One of the link's loops. */
export interface LoopOptions {
  readonly call: LinkCall;
  readonly signal: AbortSignal;
  readonly backoff: BackoffPolicy;
  readonly random: () => number;
  /** Times the waits between turns. */
  readonly clock?: Clock;
  readonly tracker: LinkTracker;
  /**
   * One turn of the loop. Resolves with how long to wait before the next turn; a throw counts
   * as a failed call and the loop backs off (jittered, reset by the next success).
   */
  readonly turn: () => Promise<number>;
}

/**
 * Runs `turn` until the signal aborts: `while (!aborted) { work; wait }`, never `setInterval`,
 * so a slow turn is never overlapped by the next one. Resolves (never rejects) once aborted.
 */
export async function runLoop(options: LoopOptions): Promise<void> {
  const { signal, tracker } = options;
  const backoff = new Backoff(options.backoff, options.random);
  // Refused credentials: retry slowly (the token may be rotated meanwhile), still jittered above.
  const refusedFloorMs = options.backoff.maxMs / 2;
  const waitAfter = (error: PerimeterError): number =>
    backoff.next({
      retryAfterMs: error.retryAfterMs,
      floorMs: error.code === 'CONTROL_PLANE_REJECTED' ? refusedFloorMs : 0,
    });
  // A function, not the property: the compiler would narrow `signal.aborted` across awaits.
  const aborted = (): boolean => signal.aborted;
  while (!aborted()) {
    let delayMs: number;
    try {
      delayMs = await options.turn();
      backoff.reset();
    } catch (thrown) {
      if (aborted()) {
        break;
      }
      delayMs = tracker.failed(options.call, thrown, waitAfter);
    }
    await pause(delayMs, signal, options.clock);
  }
}

/** Waits `ms`, or less when the signal aborts; never rejects. */
export async function pause(ms: number, signal: AbortSignal, clock?: Clock): Promise<void> {
  if (ms <= 0 || signal.aborted) {
    return;
  }
  await sleep(ms, { signal, clock }).catch(() => undefined);
}

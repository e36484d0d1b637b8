import { setTimeout as sleep } from 'node:timers/promises';
import { raceAbort } from '../plugin-api/index.ts';

/**
 * Settles like `promise`, or rejects with the signal's reason as soon as `signal` aborts, even
 * when whatever produces `promise` ignores the signal (an SDK call stuck on a socket). The one
 * mechanism is the plugin API's `raceAbort`, which the stores use too.
 */
export const untilAborted: <T>(promise: Promise<T>, signal: AbortSignal) => Promise<T> = raceAbort;

/** Waits `ms`; rejects with the signal's reason when it aborts first. */
export async function delay(ms: number, signal: AbortSignal): Promise<void> {
  try {
    await sleep(ms, undefined, { signal });
  } catch (error) {
    throw signal.aborted ? (signal.reason as Error) : error;
  }
}

import { setTimeout as sleep } from 'node:timers/promises';

/** Waits `ms`; rejects with the signal's reason when it aborts first. */
export async function delay(ms: number, signal: AbortSignal): Promise<void> {
  try {
    await sleep(ms, undefined, { signal });
  } catch (error) {
    throw signal.aborted ? (signal.reason as Error) : error;
  }
}

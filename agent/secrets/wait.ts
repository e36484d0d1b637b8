import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Settles like `promise`, or rejects with the signal's reason as soon as `signal` aborts, even
 * when whatever produces `promise` ignores the signal (an SDK call stuck on a socket).
 */
export function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) {
    // Nobody else may be listening to `promise`: its rejection must not go unhandled.
    promise.catch(() => undefined);
    return Promise.reject(signal.reason as Error);
  }
  let onAbort = (): void => undefined;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => {
      reject(signal.reason as Error);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
  return Promise.race([promise, aborted]).finally(() => {
    signal.removeEventListener('abort', onAbort);
  });
}

/** Waits `ms`; rejects with the signal's reason when it aborts first. */
export async function delay(ms: number, signal: AbortSignal): Promise<void> {
  try {
    await sleep(ms, undefined, { signal });
  } catch (error) {
    throw signal.aborted ? (signal.reason as Error) : error;
  }
}

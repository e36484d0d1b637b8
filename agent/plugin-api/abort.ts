/**
 * Settles like `promise`, or rejects with the signal's reason as soon as `signal` aborts, even
 * when whatever produces `promise` ignores the signal (an SDK call that cannot be cancelled, a
 * socket stuck in a handshake). The abandoned promise runs on to its own end; its late rejection
 * is handled here, so giving up never leaves an unhandled rejection behind.
 */
export function raceAbort<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) {
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

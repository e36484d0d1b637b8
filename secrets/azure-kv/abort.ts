import type { GetTokenOptions } from '@azure/identity';

type AbortSignalLike = NonNullable<GetTokenOptions['abortSignal']>;

/** Settles with `promise`, or rejects with the signal's reason as soon as it aborts. */
export async function raceAbort<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  signal.throwIfAborted();
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => {
      reject(signal.reason as Error);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    return await Promise.race([promise, aborted]);
  } finally {
    if (onAbort !== undefined) {
      signal.removeEventListener('abort', onAbort);
    }
  }
}

/** The Azure SDK hands policies an AbortSignalLike; our waits take a real AbortSignal. */
export function toAbortSignal(signal: AbortSignalLike | undefined): AbortSignal {
  if (signal === undefined) {
    return new AbortController().signal;
  }
  if (signal instanceof AbortSignal) {
    return signal;
  }
  const controller = new AbortController();
  if (signal.aborted) {
    controller.abort();
  } else {
    signal.addEventListener('abort', () => {
      controller.abort();
    });
  }
  return controller.signal;
}

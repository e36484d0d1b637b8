import { PerimeterError, isAbortError, isPerimeterError, raceAbort } from '../plugin-api/index.ts';

/** The PerimeterError an aborted signal stands for (RUN_ABORTED unless its reason says more). */
export function abortReason(signal: AbortSignal): PerimeterError {
  const reason: unknown = signal.reason;
  return isPerimeterError(reason)
    ? reason
    : new PerimeterError('RUN_ABORTED', 'The run was stopped before it finished', {
        cause: reason,
      });
}

/**
 * Maps what a run threw to the error it reports: once the run's signal fired, the signal's
 * reason wins over whatever the interrupted call threw (an AbortError, a reset socket).
 */
export function runError(error: unknown, signal: AbortSignal): PerimeterError {
  if (signal.aborted) {
    return abortReason(signal);
  }
  if (isPerimeterError(error)) {
    return error;
  }
  if (isAbortError(error)) {
    return new PerimeterError('RUN_ABORTED', 'The run was stopped before it finished', {
      cause: error,
    });
  }
  return new PerimeterError('INTERNAL', 'Unexpected error during the run', { cause: error });
}

/**
 * Iterates an async iterable but gives up as soon as `signal` aborts, even if the producer is
 * stuck in a wait that ignores the signal; the producer's `return()` is then called (not awaited
 * past a short bound) so its `finally` blocks run.
 */
export async function* iterateUntilAborted<T>(
  iterable: AsyncIterable<T>,
  signal: AbortSignal,
): AsyncGenerator<T> {
  const iterator = iterable[Symbol.asyncIterator]();
  let finished = false;
  try {
    signal.throwIfAborted();
    for (;;) {
      const step = await nextOrAbort(iterator, signal);
      if (step.done === true) {
        finished = true;
        return;
      }
      yield step.value;
    }
  } finally {
    if (!finished) {
      await Promise.race([
        iterator.return?.().catch(() => undefined),
        new Promise((resolve) => setTimeout(resolve, 1000).unref()),
      ]);
    }
  }
}

/**
 * One `next()`, rejected early by an abort. The race is per step (`raceAbort` removes its
 * listener when the step settles): racing every step against one long-lived abort promise would
 * keep a reaction (and the step's value) per event alive until the run ends.
 */
async function nextOrAbort<T>(
  iterator: AsyncIterator<T>,
  signal: AbortSignal,
): Promise<IteratorResult<T>> {
  try {
    return await raceAbort(iterator.next(), signal);
  } catch (error) {
    throw signal.aborted ? abortReason(signal) : error;
  }
}

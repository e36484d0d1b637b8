import { PerimeterError, isPerimeterError, raceAbort } from '../plugin-api/index.ts';

/**
 * Resolves with the promise, or with undefined as soon as the signal aborts. For Redis commands,
 * which wait across reconnects (maxRetriesPerRequest: null) and take no signal of their own: the
 * command itself goes on and its late result is dropped.
 */
export async function raceSignal<T>(
  promise: Promise<T>,
  signal: AbortSignal,
): Promise<T | undefined> {
  try {
    return await raceAbort(promise, signal);
  } catch (error) {
    if (signal.aborted) {
      return undefined;
    }
    throw error;
  }
}

/**
 * Runs a Redis operation for a caller that must not wait out an outage (the link, which then
 * leaves the instruction unacknowledged so it is delivered again). A timeout or a connection
 * failure is REDIS_UNAVAILABLE (retryable); PerimeterErrors pass through.
 */
export async function redisOperation<T>(
  operation: Promise<T>,
  what: string,
  timeoutMs: number,
): Promise<T> {
  let result: { value: T } | undefined;
  try {
    result = await raceSignal(
      operation.then((value) => ({ value })),
      AbortSignal.timeout(timeoutMs),
    );
  } catch (error) {
    if (isPerimeterError(error)) {
      throw error;
    }
    throw new PerimeterError('REDIS_UNAVAILABLE', `Redis failed while ${what}`, { cause: error });
  }
  if (result === undefined) {
    throw new PerimeterError(
      'REDIS_UNAVAILABLE',
      `Redis did not answer within ${timeoutMs} ms while ${what}`,
      {
        context: { timeoutMs },
      },
    );
  }
  return result.value;
}

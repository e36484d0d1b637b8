import { PerimeterError, isPerimeterError, waitAtMost } from '../plugin-api/index.ts';
import type { WaitOutcome } from '../plugin-api/index.ts';

/**
 * Runs a Redis operation for a caller that must not wait out an outage (the link, which then
 * leaves the instruction unacknowledged so it is delivered again). Redis commands wait across
 * reconnects and take no signal, so the command goes on and a late result is dropped. A timeout
 * or a connection failure is REDIS_UNAVAILABLE (retryable); PerimeterErrors pass through.
 */
export async function redisOperation<T>(
  operation: Promise<T>,
  what: string,
  timeoutMs: number,
): Promise<T> {
  let outcome: WaitOutcome<T>;
  try {
    outcome = await waitAtMost(operation, timeoutMs);
  } catch (error) {
    if (isPerimeterError(error)) {
      throw error;
    }
    throw new PerimeterError('REDIS_UNAVAILABLE', `Redis failed while ${what}`, { cause: error });
  }
  if (outcome.timedOut) {
    throw new PerimeterError(
      'REDIS_UNAVAILABLE',
      `Redis did not answer within ${timeoutMs} ms while ${what}`,
      { context: { timeoutMs } },
    );
  }
  return outcome.value;
}

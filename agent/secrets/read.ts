import { planRetry } from '../http/retry.ts';
import { PerimeterError } from '../plugin-api/index.ts';
import type {
  CanonicalSecretRef,
  ErrorContext,
  FetchedSecret,
  SecretStoreClient,
} from '../plugin-api/index.ts';
import type { SecretsSettings } from './settings.ts';
import type { TokenBucket } from './token-bucket.ts';
import { raceAbort, sleep } from '../plugin-api/index.ts';

/** Outcomes of one store read, as the `secretFetchesTotal` metric labels them. */
export type ReadOutcome = 'fetched' | 'not_found' | 'denied' | 'unavailable' | 'failed';

/** What one read needs besides the reference. */
export interface ReadContext {
  readonly client: SecretStoreClient;
  readonly bucket: TokenBucket;
  readonly settings: SecretsSettings;
  /** The canonical reference, for error context. */
  readonly ref: string;
  /** Called after every attempt (metrics); `error` when it failed. */
  onAttempt(outcome: ReadOutcome, error?: PerimeterError): void;
  /** Called before a retry wait. */
  onRetry(error: PerimeterError, attempt: number, delayMs: number): void;
}

/**
 * Reads a whole payload: one token per attempt, `fetchTimeoutMs` per attempt, retries of
 * SECRET_UNAVAILABLE with jittered backoff that honours the store's retryAfterMs (a longer
 * wait than `retryMaxDelayMs` ends the retries: the queue reschedules the run instead).
 */
export async function readWithRetry(
  canonical: CanonicalSecretRef,
  context: ReadContext,
  signal: AbortSignal,
): Promise<FetchedSecret> {
  const { settings } = context;
  const retry = {
    maxAttempts: settings.maxAttempts,
    baseDelayMs: settings.retryBaseDelayMs,
    maxDelayMs: settings.retryMaxDelayMs,
    maxRetryAfterMs: settings.retryMaxDelayMs,
  };
  for (let attempt = 1; ; attempt += 1) {
    await context.bucket.take(signal);
    try {
      const fetched = await callStore(
        (callSignal) => context.client.fetch(canonical, { signal: callSignal }),
        signal,
        settings.fetchTimeoutMs,
        { ref: context.ref },
      );
      context.onAttempt('fetched');
      return fetched;
    } catch (error) {
      if (!(error instanceof PerimeterError) || signal.aborted) {
        throw error;
      }
      context.onAttempt(outcomeOf(error), error);
      const plan = planRetry(attempt, error.retryAfterMs, retry);
      if (!error.retryable || !plan.retry) {
        throw error;
      }
      context.onRetry(error, attempt, plan.delayMs);
      await sleep(plan.delayMs, { signal });
    }
  }
}

/**
 * One store call within `timeoutMs`, given up as soon as `signal` aborts even if the store
 * ignores it. Rejects with the signal's reason once it aborted, else with a PerimeterError: the
 * store's own, or SECRET_UNAVAILABLE for a timeout or an unexpected failure.
 */
export async function callStore<T>(
  call: (signal: AbortSignal) => Promise<T>,
  signal: AbortSignal,
  timeoutMs: number,
  context: ErrorContext,
): Promise<T> {
  const timeout = AbortSignal.timeout(timeoutMs);
  const callSignal = AbortSignal.any([signal, timeout]);
  try {
    return await raceAbort(call(callSignal), callSignal);
  } catch (thrown) {
    if (signal.aborted) {
      throw signal.reason as Error;
    }
    if (thrown instanceof PerimeterError) {
      throw thrown;
    }
    throw new PerimeterError(
      'SECRET_UNAVAILABLE',
      timeout.aborted
        ? `The secret store did not answer within ${timeoutMs} ms (secrets.fetchTimeoutMs)`
        : 'The secret store call failed unexpectedly',
      { cause: thrown, context },
    );
  }
}

function outcomeOf(error: PerimeterError): ReadOutcome {
  if (error.code === 'SECRET_NOT_FOUND') {
    return 'not_found';
  }
  if (error.code === 'SECRET_ACCESS_DENIED') {
    return 'denied';
  }
  return error.retryable ? 'unavailable' : 'failed';
}

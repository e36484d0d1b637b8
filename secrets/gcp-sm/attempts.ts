import { backoffDelayMs, isTlsFailure, sleep } from '../../agent/plugin-api/index.ts';
import type { GcpSmProfile } from './profile.ts';

/** gRPC codes retried within the read's time bound: RESOURCE_EXHAUSTED, UNAVAILABLE. */
const RETRY_CODES: ReadonlySet<unknown> = new Set([8, 14]);
/** The waits between attempts: full jitter, from 100 ms doubling up to 2 s. */
const BACKOFF = { baseMs: 100, maxMs: 2_000 };

/**
 * Runs the attempts of one read: `RESOURCE_EXHAUSTED` and `UNAVAILABLE` are retried with
 * jittered backoff while `totalTimeoutMs` lasts (the SDK's default would retry for 10 minutes,
 * reference §3.5, pitfall 2). The first attempt has the whole `attemptTimeoutMs`, a retry no
 * more than what is left. A TLS trust failure, which the SDK reports as `UNAVAILABLE`, ends the
 * read at once: retrying cannot make a certificate trusted, and a retry cut short by the bound
 * would end the read with a timeout that hides it.
 */
export async function readWithRetries<T>(
  attempt: (timeoutMs: number) => Promise<T>,
  options: Pick<GcpSmProfile, 'attemptTimeoutMs' | 'totalTimeoutMs'> & {
    readonly signal: AbortSignal;
    /** Source of the backoff jitter, for tests. */
    readonly random?: () => number;
  },
): Promise<T> {
  const { attemptTimeoutMs, signal } = options;
  const deadlineMs = Date.now() + options.totalTimeoutMs;
  let failures = 0;
  for (;;) {
    const timeoutMs =
      failures === 0 ? attemptTimeoutMs : Math.min(attemptTimeoutMs, deadlineMs - Date.now());
    try {
      return await attempt(timeoutMs);
    } catch (error) {
      failures += 1;
      const delayMs = backoffDelayMs(BACKOFF, failures, {}, options.random);
      // Past the bound, the last answer is the one to report, not a retry with no time left.
      if (!transient(error) || Date.now() + delayMs >= deadlineMs) {
        throw error;
      }
      await sleep(delayMs, { signal });
    }
  }
}

function transient(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return RETRY_CODES.has(code) && !isTlsFailure(error);
}

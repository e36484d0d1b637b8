import { describe, expect, it } from 'vitest';
import { readWithRetries } from './attempts.ts';

/** An error as the SDK gives it: a gRPC status code, the transport's error as its cause. */
function sdkError(code: number, message: string, cause?: Error): Error {
  return Object.assign(new Error(message, { cause }), { code });
}

const untrusted = (): Error =>
  sdkError(
    14,
    'fetch failed',
    Object.assign(new Error('self-signed certificate in certificate chain'), {
      code: 'SELF_SIGNED_CERT_IN_CHAIN',
    }),
  );

/** Runs the attempts in `answers` in order (an Error is thrown); records each attempt's timeout. */
function scripted(answers: readonly (Error | string)[]): {
  readonly timeoutsMs: number[];
  attempt(timeoutMs: number): Promise<string>;
} {
  const timeoutsMs: number[] = [];
  return {
    timeoutsMs,
    attempt: (timeoutMs) => {
      const answer = answers[timeoutsMs.length] ?? new Error('no answer scripted');
      timeoutsMs.push(timeoutMs);
      return answer instanceof Error ? Promise.reject(answer) : Promise.resolve(answer);
    },
  };
}

const bounds = { attemptTimeoutMs: 5_000, totalTimeoutMs: 60_000, random: () => 0 };
const signal = (): AbortSignal => AbortSignal.timeout(10_000);

describe('the attempts of one gcp-sm read', () => {
  it('retries UNAVAILABLE and RESOURCE_EXHAUSTED until an attempt answers', async () => {
    const script = scripted([sdkError(14, 'unavailable'), sdkError(8, 'throttled'), 'payload']);
    await expect(readWithRetries(script.attempt, { ...bounds, signal: signal() })).resolves.toBe(
      'payload',
    );
    expect(script.timeoutsMs).toHaveLength(3);
    expect(script.timeoutsMs[0]).toBe(5_000);
  });

  it('ends the read on an untrusted certificate at once, so no retry can end it otherwise', async () => {
    const tls = untrusted();
    // What a retry met when the bound had almost run out: the SDK's own attempt timeout.
    const script = scripted([tls, sdkError(4, 'Deadline exceeded: did not respond within 3 ms')]);
    await expect(readWithRetries(script.attempt, { ...bounds, signal: signal() })).rejects.toBe(
      tls,
    );
    expect(script.timeoutsMs).toHaveLength(1);
  });

  it('gives a retry no more than what is left of the bound, and reports the last answer when none is left', async () => {
    const last = sdkError(14, 'unavailable again');
    const script = scripted([sdkError(14, 'unavailable'), last]);
    // A first wait of 0 ms; the second would be 199 ms, more than the whole 150 ms bound.
    let waits = 0;
    const random = (): number => (waits++ === 0 ? 0 : 0.999);
    await expect(
      readWithRetries(script.attempt, {
        attemptTimeoutMs: 5_000,
        totalTimeoutMs: 150,
        random,
        signal: signal(),
      }),
    ).rejects.toBe(last);
    expect(script.timeoutsMs).toHaveLength(2);
    expect(script.timeoutsMs[1]).toBeLessThanOrEqual(150);
  });
});

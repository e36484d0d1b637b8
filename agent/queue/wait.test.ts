import { afterEach, describe, expect, it, vi } from 'vitest';
import { PerimeterError } from '../plugin-api/index.ts';
import { redisOperation } from './wait.ts';

afterEach(() => {
  vi.useRealTimers();
});

describe('redisOperation', () => {
  it('gives up on a command that does not answer in time with REDIS_UNAVAILABLE', async () => {
    vi.useFakeTimers();
    const hanging = new Promise<string>(() => undefined);
    const outcome = redisOperation(hanging, 'queueing run r-1', 3_000).catch(
      (error: unknown) => error,
    );
    await vi.advanceTimersByTimeAsync(3_000);
    expect(await outcome).toMatchObject({
      code: 'REDIS_UNAVAILABLE',
      retryable: true,
      message: 'Redis did not answer within 3000 ms while queueing run r-1',
    });
    expect(vi.getTimerCount()).toBe(0);
  });

  it('passes the answer, a PerimeterError, or a connection failure as REDIS_UNAVAILABLE', async () => {
    await expect(redisOperation(Promise.resolve('OK'), 'saving', 1_000)).resolves.toBe('OK');
    const refused = new PerimeterError('JOB_INVALID', 'bad payload');
    await expect(redisOperation(Promise.reject(refused), 'saving', 1_000)).rejects.toBe(refused);
    await expect(
      redisOperation(Promise.reject(new Error('Connection is closed.')), 'saving', 1_000),
    ).rejects.toMatchObject({ code: 'REDIS_UNAVAILABLE', message: 'Redis failed while saving' });
  });
});

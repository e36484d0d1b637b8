import { describe, expect, it } from 'vitest';
import { raceAbort } from './abort.ts';

describe('raceAbort', () => {
  it('settles like the promise while the signal stays quiet', async () => {
    const signal = new AbortController().signal;
    await expect(raceAbort(Promise.resolve('value'), signal)).resolves.toBe('value');
    const failure = new Error('the call failed');
    await expect(raceAbort(Promise.reject(failure), signal)).rejects.toBe(failure);
  });

  it('rejects with the reason as soon as the signal aborts, though the promise never settles', async () => {
    const controller = new AbortController();
    const reason = new Error('run cancelled');
    const pending = raceAbort(new Promise<never>(() => undefined), controller.signal);
    setTimeout(() => {
      controller.abort(reason);
    }, 5);
    await expect(pending).rejects.toBe(reason);
  });

  it('rejects at once on an aborted signal and leaves no unhandled rejection behind', async () => {
    const reason = new Error('already cancelled');
    const unhandled: unknown[] = [];
    const onUnhandled = (error: unknown): void => {
      unhandled.push(error);
    };
    process.on('unhandledRejection', onUnhandled);
    try {
      const late = new Promise<never>((_, reject) => {
        setTimeout(() => {
          reject(new Error('late failure of an abandoned call'));
        }, 1);
      });
      await expect(raceAbort(late, AbortSignal.abort(reason))).rejects.toBe(reason);
      await new Promise((resolve) => setTimeout(resolve, 20));
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
    expect(unhandled).toEqual([]);
  });

  it('removes its abort listener once the promise settles', async () => {
    const controller = new AbortController();
    let listeners = 0;
    const add = controller.signal.addEventListener.bind(controller.signal);
    const remove = controller.signal.removeEventListener.bind(controller.signal);
    controller.signal.addEventListener = (...args: Parameters<typeof add>) => {
      listeners += 1;
      add(...args);
    };
    controller.signal.removeEventListener = (...args: Parameters<typeof remove>) => {
      listeners -= 1;
      remove(...args);
    };
    await raceAbort(Promise.resolve(1), controller.signal);
    await raceAbort(Promise.reject(new Error('x')), controller.signal).catch(() => undefined);
    expect(listeners).toBe(0);
  });
});

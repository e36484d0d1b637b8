import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { PerimeterError, isPerimeterError } from '../plugin-api/index.ts';
import { iterateUntilAborted, runError } from './abort.ts';

async function* count(to: number): AsyncGenerator<number> {
  for (let i = 0; i < to; i += 1) {
    yield await Promise.resolve(i);
  }
}

describe('iterateUntilAborted', () => {
  it('holds at most one abort listener at a time, however long the stream', async () => {
    const controller = new AbortController();
    let most = 0;
    let seen = 0;
    for await (const _ of iterateUntilAborted(count(20_000), controller.signal)) {
      seen += 1;
      most = Math.max(most, getEventListeners(controller.signal, 'abort').length);
    }
    expect(seen).toBe(20_000);
    expect(most).toBeLessThanOrEqual(1);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
  });

  it('gives up on a producer stuck in a wait that ignores the signal', async () => {
    async function* stuck(): AsyncGenerator<number> {
      yield 1;
      await new Promise(() => undefined);
    }
    const controller = new AbortController();
    const seen: number[] = [];
    const started = performance.now();
    setTimeout(() => {
      controller.abort(new PerimeterError('RUN_CANCELLED', 'cancelled'));
    }, 50);
    const error = await (async () => {
      for await (const value of iterateUntilAborted(stuck(), controller.signal)) {
        seen.push(value);
      }
    })().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isPerimeterError(error, 'RUN_CANCELLED')).toBe(true);
    expect(seen).toEqual([1]);
    expect(performance.now() - started).toBeLessThan(1_500);
  });
});

describe('runError', () => {
  it('prefers the signal reason once aborted, and hides unknown errors behind INTERNAL', () => {
    const controller = new AbortController();
    expect(runError(new Error('socket hang up with body xyz'), controller.signal).code).toBe(
      'INTERNAL',
    );
    expect(
      runError(new Error('socket hang up with body xyz'), controller.signal).message,
    ).not.toContain('xyz');
    controller.abort(new PerimeterError('RUN_TIMEOUT', 'too long'));
    expect(runError(new Error('reset'), controller.signal).code).toBe('RUN_TIMEOUT');
  });
});

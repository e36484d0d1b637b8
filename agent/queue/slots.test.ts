import { describe, expect, it } from 'vitest';
import { WeightedSlots } from './slots.ts';

const never = new AbortController().signal;

describe('weighted worker slots', () => {
  it('lets a heavy run take several slots, so fewer light runs go beside it', async () => {
    const slots = new WeightedSlots(4);
    const heavy = await slots.acquire(3, never);
    const light = await slots.acquire(1, never);
    expect(slots.free).toBe(0);
    let second = false;
    const waiting = slots.acquire(1, never).then((release) => {
      second = true;
      return release;
    });
    await Promise.resolve();
    expect(second).toBe(false);
    heavy();
    (await waiting)();
    light();
    expect(slots.free).toBe(4);
  });

  it('serves a waiting heavy run before light runs that came after it', async () => {
    const slots = new WeightedSlots(2);
    const first = await slots.acquire(1, never);
    const order: string[] = [];
    const heavy = slots.acquire(2, never).then((release) => {
      order.push('heavy');
      release();
    });
    const light = slots.acquire(1, never).then((release) => {
      order.push('light');
      release();
    });
    await Promise.resolve();
    expect(order).toEqual([]);
    first();
    await Promise.all([heavy, light]);
    expect(order).toEqual(['heavy', 'light']);
  });

  it('runs a weight above the total alone, and gives the slots back when a waiter is aborted', async () => {
    const slots = new WeightedSlots(2);
    const whole = await slots.acquire(10, never);
    expect(slots.free).toBe(0);
    const stop = new AbortController();
    const waiting = slots.acquire(1, stop.signal);
    stop.abort();
    await expect(waiting).rejects.toMatchObject({ code: 'RUN_ABORTED' });
    whole();
    expect(slots.free).toBe(2);
  });
});

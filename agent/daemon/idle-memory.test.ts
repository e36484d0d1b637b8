import v8 from 'node:v8';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { reduceFootprint, startIdleMemoryRelease } from './idle-memory.ts';
import type { HeapSizes } from './idle-memory.ts';

const MIB = 2 ** 20;

describe('startIdleMemoryRelease', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  function world(initial: HeapSizes): {
    busy: boolean;
    sizes: HeapSizes;
    released: number;
    start: () => ReturnType<typeof startIdleMemoryRelease>;
  } {
    const state = {
      busy: false,
      sizes: initial,
      released: 0,
      start: () =>
        startIdleMemoryRelease({
          isBusy: () => state.busy,
          checkIntervalMs: 1_000,
          heapSizes: () => state.sizes,
          release: () => {
            state.released += 1;
            state.sizes = { youngBytes: 1 * MIB, oldBytes: state.sizes.oldBytes / 2 };
          },
        }),
    };
    return state;
  }

  it('releases once at the first check when start-up grew the young generation', () => {
    const state = world({ youngBytes: 16 * MIB, oldBytes: 30 * MIB });
    const release = state.start();
    vi.advanceTimersByTime(999);
    expect(state.released).toBe(0);
    vi.advanceTimersByTime(1);
    expect(state.released).toBe(1);
    // Nothing grew since: no second collection however long the quiet lasts.
    vi.advanceTimersByTime(60_000);
    expect(release.releases).toBe(1);
    release.close();
  });

  it('waits while a run is active and until the agent has been quiet for a whole interval', () => {
    const state = world({ youngBytes: 16 * MIB, oldBytes: 30 * MIB });
    state.busy = true;
    const release = state.start();
    vi.advanceTimersByTime(10_000);
    expect(state.released).toBe(0);
    state.busy = false;
    vi.advanceTimersByTime(1_000);
    expect(state.released).toBe(0);
    vi.advanceTimersByTime(1_000);
    expect(state.released).toBe(1);
    release.close();
  });

  it('releases again after old space grew by more than 8 MiB, and not for less', () => {
    const state = world({ youngBytes: 16 * MIB, oldBytes: 30 * MIB });
    const release = state.start();
    vi.advanceTimersByTime(1_000);
    expect(state.released).toBe(1);
    state.sizes = { youngBytes: 1 * MIB, oldBytes: 15 * MIB + 8 * MIB };
    vi.advanceTimersByTime(5_000);
    expect(state.released).toBe(1);
    state.sizes = { youngBytes: 1 * MIB, oldBytes: 15 * MIB + 9 * MIB };
    vi.advanceTimersByTime(1_000);
    expect(state.released).toBe(2);
    release.close();
  });

  it('stops checking once closed, and close is idempotent', () => {
    const state = world({ youngBytes: 16 * MIB, oldBytes: 30 * MIB });
    const release = state.start();
    release.close();
    release.close();
    vi.advanceTimersByTime(60_000);
    expect(state.released).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
  });
});

describe('reduceFootprint', () => {
  it('collects the old space at once, without exposing gc to the global scope', () => {
    const usedBytes = (): number => v8.getHeapStatistics().used_heap_size;
    // Survives enough scavenges to be promoted, then becomes garbage of the old space, which no
    // young-generation collection reclaims.
    const promote = (): number => {
      const kept = Array.from({ length: 200_000 }, (_, i) => ({ i, text: `item ${i}` }));
      for (let round = 0; round < 4; round += 1) {
        Array.from({ length: 200_000 }, (_, i) => ({ i }));
      }
      return kept.length;
    };
    expect(promote()).toBe(200_000);
    const before = usedBytes();
    reduceFootprint();
    expect(before - usedBytes()).toBeGreaterThan(8 * MIB);
    expect('gc' in globalThis).toBe(false);
  });
});

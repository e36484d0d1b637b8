import v8 from 'node:v8';
import vm from 'node:vm';
import { systemClock } from '../plugin-api/index.ts';
import type { Clock } from '../plugin-api/index.ts';

/**
 * Gives the memory of a burst of work back once the daemon has gone quiet.
 *
 * V8 grows the young generation while much is allocated (start-up reading every module, a run
 * streaming assets) and keeps it, and the old space's free pages, while the agent sits idle: its
 * memory reducer, which would shrink them, only starts after a full collection, and an idle agent
 * allocates too little to cause one. When no run was active at this check or the one before and
 * the heap has grown since the last release, the daemon asks V8 for one full collection; the
 * memory reducer follows it about 8 s later with its own incremental ones, and the agent holds
 * 15–20 MiB less (docs/performance.md, idle). The pauses only ever fall where no run is active.
 */
export interface IdleMemoryOptions {
  /** True while a run is active on this agent. */
  readonly isBusy: () => boolean;
  /** Between two checks; a release needs two quiet checks in a row (start-up counts as one). */
  readonly checkIntervalMs?: number;
  readonly clock?: Clock;
  /** The heap's young generation and old space sizes, in bytes. */
  readonly heapSizes?: () => HeapSizes;
  /** The full, footprint-reducing collection. */
  readonly release?: () => void;
}

export interface HeapSizes {
  readonly youngBytes: number;
  readonly oldBytes: number;
}

export interface IdleMemoryRelease {
  /** How many releases ran so far. */
  readonly releases: number;
  /** Stops checking; idempotent. */
  close(): void;
}

const DEFAULT_CHECK_INTERVAL_MS = 10_000;
const MIB = 1024 * 1024;
/** A young generation larger than this (V8 starts at 1 MiB per semi-space) has grown. */
const YOUNG_FLOOR_BYTES = 2 * MIB;
/** Old space growth since the last release that is worth a collection. */
const OLD_GROWTH_BYTES = 8 * MIB;

/** Checks every `checkIntervalMs` until closed (the daemon closes it with its other parts). */
export function startIdleMemoryRelease(options: IdleMemoryOptions): IdleMemoryRelease {
  const clock = options.clock ?? systemClock;
  const intervalMs = options.checkIntervalMs ?? DEFAULT_CHECK_INTERVAL_MS;
  const heapSizes = options.heapSizes ?? v8HeapSizes;
  const release = options.release ?? reduceFootprint;
  // Start-up is the first burst: the first check may release.
  let quietBefore = true;
  let oldAfterRelease = 0;
  let releases = 0;
  let cancel: (() => void) | undefined;
  const check = (): void => {
    const quiet = !options.isBusy();
    if (quiet && quietBefore) {
      const sizes = heapSizes();
      if (
        sizes.youngBytes > YOUNG_FLOOR_BYTES ||
        sizes.oldBytes - oldAfterRelease > OLD_GROWTH_BYTES
      ) {
        release();
        releases += 1;
        oldAfterRelease = heapSizes().oldBytes;
      }
    }
    quietBefore = quiet;
    cancel = clock.schedule(check, intervalMs);
  };
  cancel = clock.schedule(check, intervalMs);
  return {
    get releases() {
      return releases;
    },
    close() {
      cancel?.();
      cancel = undefined;
    },
  };
}

function v8HeapSizes(): HeapSizes {
  let youngBytes = 0;
  let oldBytes = 0;
  for (const space of v8.getHeapSpaceStatistics()) {
    if (space.space_name === 'new_space') {
      youngBytes = space.space_size;
    } else if (space.space_name === 'old_space') {
      oldBytes = space.space_size;
    }
  }
  return { youngBytes, oldBytes };
}

type GcFunction = (options: { type: 'major'; execution: 'sync'; flavor: 'regular' }) => void;
let gcFunction: GcFunction | undefined;

/**
 * One full collection. Node gives no API for it: the collector is reached by enabling
 * `--expose-gc` and reading `gc` from a new context, which leaves the agent's own global scope (and
 * the connectors') without a `gc`.
 */
export function reduceFootprint(): void {
  if (gcFunction === undefined) {
    v8.setFlagsFromString('--expose-gc');
    gcFunction = vm.runInNewContext('gc') as GcFunction;
  }
  gcFunction({ type: 'major', execution: 'sync', flavor: 'regular' });
}

import { setFlagsFromString } from 'node:v8';
import type { ResourceLimits } from 'node:worker_threads';

/**
 * A run thread's young generation in MiB. V8 sizes it as three semi-spaces (two, and a
 * large-object space as big as one), so a thread streams with the 8 MiB semi-space that
 * bin/perimeter.js gives the agent's own heap; a smaller one saves a few MiB for many more
 * scavenges (docs/performance.md, run isolation).
 */
const YOUNG_GENERATION_MB = 3 * 8;

/**
 * The heap limits of a run thread capped at `memoryMb` (its old generation), called by the pool
 * for each thread it creates.
 *
 * V8 sizes every isolate it creates from `--max-old-space-size` and `--max-semi-space-size` when
 * the process has them, and they win over a Worker's `resourceLimits`: under bin/perimeter.js,
 * which sets both for the agent's own heap, every thread was capped at the agent's old space
 * (128 MiB) whatever its `runMemoryMb`. V8 reads them only when it creates an isolate, and the
 * agent's own heap was created before any thread, so clearing them here leaves that heap as it
 * is and lets each thread have the limits given here.
 */
export function runThreadLimits(memoryMb: number): ResourceLimits {
  setFlagsFromString('--max-old-space-size=0');
  setFlagsFromString('--max-semi-space-size=0');
  return { maxOldGenerationSizeMb: memoryMb, maxYoungGenerationSizeMb: YOUNG_GENERATION_MB };
}

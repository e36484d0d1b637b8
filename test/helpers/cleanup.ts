import { afterAll, afterEach } from 'vitest';

/**
 * Registers a hook that runs the deferred steps in reverse order (last set up, first torn down)
 * after each test (or after all, for suites that share one setup). Returns `defer(step)`.
 */
export function deferredCleanup(
  when: 'each' | 'all' = 'each',
): (step: () => Promise<void>) => void {
  const steps: (() => Promise<void>)[] = [];
  (when === 'each' ? afterEach : afterAll)(async () => {
    for (const step of steps.splice(0).reverse()) {
      await step();
    }
  });
  return (step) => {
    steps.push(step);
  };
}

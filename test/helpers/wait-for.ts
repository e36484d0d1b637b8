import { setTimeout as sleep } from 'node:timers/promises';

/** Polls `condition` until it is truthy or `timeoutMs` passes; returns its value. */
export async function waitFor<T>(
  condition: () => T | Promise<T>,
  options: { timeoutMs?: number; intervalMs?: number; what?: string } = {},
): Promise<NonNullable<T>> {
  const deadline = Date.now() + (options.timeoutMs ?? 10_000);
  let last: unknown;
  for (;;) {
    try {
      const value = await condition();
      if (value) {
        return value;
      }
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) {
      throw new Error(`Timed out waiting for ${options.what ?? 'condition'}`, { cause: last });
    }
    await sleep(options.intervalMs ?? 25);
  }
}

// The one-timing-toolkit check: waits, bounds and backoffs come from agent/plugin-api/timing.ts
// (and raceAbort from abort.ts), so tests control time in one place. See timing.test.ts.

/** Hand-written timing that the toolkit replaces, with what to use instead. */
const FORBIDDEN: readonly { readonly pattern: RegExp; readonly instead: string }[] = [
  {
    pattern: /['"](node:)?timers\/promises['"]/,
    instead: 'node:timers/promises (use sleep() from agent/plugin-api/timing.ts)',
  },
  {
    pattern: /Promise\.race\(/,
    instead: 'Promise.race( (use waitAtMost() from timing.ts, or raceAbort() from abort.ts)',
  },
  {
    pattern: /(?<![\w.])2\s*\*\*|Math\.pow\(\s*2\s*,/,
    instead: 'a hand-written 2 ** backoff (use backoffDelayMs() or Backoff from timing.ts)',
  },
];

/** The files that may hold the forms above, and why. */
export const TIMING_ALLOWED: ReadonlyMap<string, string> = new Map([
  ['agent/plugin-api/timing.ts', 'the toolkit itself'],
  ['agent/plugin-api/abort.ts', 'raceAbort, the toolkit’s “until this signal aborts”'],
]);

/**
 * Every hand-written wait, race or backoff in a file map (path → source), one sentence each,
 * sorted; and every allowed file that no longer holds any, so the allow-list only shrinks.
 */
export function checkTiming(
  files: ReadonlyMap<string, string>,
  allowed: ReadonlyMap<string, string> = TIMING_ALLOWED,
): string[] {
  const problems: string[] = [];
  for (const [file, source] of files) {
    const found = FORBIDDEN.filter(({ pattern }) => pattern.test(source));
    if (allowed.has(file)) {
      if (found.length === 0) {
        problems.push(`${file} no longer needs its entry in TIMING_ALLOWED; remove it`);
      }
      continue;
    }
    for (const { instead } of found) {
      problems.push(`${file} uses ${instead}`);
    }
  }
  return problems.sort();
}

/**
 * How hard the proof suites (test/proof) push: `npm test` runs them in their CI mode, with
 * fewer generated inputs and shorter runs; `npm run test:proof` sets PERIMETER_PROOF=long.
 */
export const proofMode: 'ci' | 'long' = process.env['PERIMETER_PROOF'] === 'long' ? 'long' : 'ci';

/** The number of generated inputs (or repetitions) for this mode. */
export function proofRuns(counts: { readonly ci: number; readonly long: number }): number {
  return counts[proofMode];
}

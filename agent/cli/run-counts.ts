import type { RunCounts } from '../run/types.ts';
import type { Output } from './output.ts';

/** Skipped objects printed by `perimeter run`; `--json` has all the result lists (up to 100). */
const MAX_PRINTED_SKIPS = 20;

/**
 * The honest part of a run's summary for a person: per kind what the source reported, what was
 * extracted and skipped; the skipped objects; whether the counts reconcile with the source's.
 */
export function printCounts(output: Output, counts: Partial<RunCounts>): void {
  const kinds = Object.entries(counts.kinds ?? {});
  if (kinds.length === 0) {
    return;
  }
  output.rows([
    ['KIND', 'REPORTED', 'EXTRACTED', 'SKIPPED'].map((title) => output.style('bold', title)),
    ...kinds.map(([kind, count]) => [
      kind,
      count.reported === undefined ? '-' : String(count.reported),
      String(count.extracted),
      String(count.skipped),
    ]),
  ]);
  const skipped = counts.skipped;
  if (skipped !== undefined && skipped.total > 0) {
    const shown = skipped.items.slice(0, MAX_PRINTED_SKIPS);
    output.line(
      output.style('yellow', `partial: ${String(skipped.total)} skipped`) +
        (shown.length < skipped.total ? ` (first ${String(shown.length)} below)` : ''),
    );
    output.rows(shown.map((item) => ['  ' + item.kind, item.id, item.reason, item.message]));
  }
  if (counts.reconciled === false) {
    const lines = (counts.mismatches ?? []).map(
      (m) =>
        `${m.kind}: source reported ${String(m.reported)}, extracted ${String(m.extracted)} + skipped ${String(m.skipped)}`,
    );
    output.line(
      output.style('red', 'counts do not reconcile with the source: ') + lines.join('; '),
    );
  } else if (kinds.some(([, count]) => count.reported !== undefined)) {
    output.line("counts reconcile with the source's totals");
  }
}

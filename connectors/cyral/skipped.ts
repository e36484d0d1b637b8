import type { Logger } from '../../agent/plugin-api/index.ts';

/**
 * What a run skipped, per kind: an object the control plane listed but then answered NotFound
 * for (a stale policy id, an unbound repository's access gateway), or a data-map location that
 * is not `schema.table.column`. Each skip is a warning with ids (never a body); the counts end
 * the run in one summary line. The one place the counting lives, so that it can feed the run's
 * result when that carries per-kind counts.
 */
export class SkipTally {
  readonly #logger: Logger;
  readonly #counts = new Map<string, number>();

  constructor(logger: Logger) {
    this.#logger = logger;
  }

  /** Records `count` skipped objects of `kind`, why, and the ids that locate them. */
  skip(
    kind: string,
    reason: 'notFound' | 'invalid',
    where: { readonly endpoint: string } & Readonly<Record<string, string>>,
    count = 1,
  ): void {
    this.#counts.set(kind, (this.#counts.get(kind) ?? 0) + count);
    this.#logger.warn({ kind, reason, count, ...where }, 'Skipped a Cyral object');
  }

  /** Skipped objects per kind. */
  counts(): Readonly<Record<string, number>> {
    return Object.fromEntries([...this.#counts].sort(([a], [b]) => (a < b ? -1 : 1)));
  }

  /** Total skipped objects. */
  get total(): number {
    let total = 0;
    for (const count of this.#counts.values()) total += count;
    return total;
  }
}

import type { ConnectorEvent, Logger, SkipReason } from '../../agent/plugin-api/index.ts';

/** Where a skipped object was met: the endpoint (a template) and the ids that locate it. */
export type SkipWhere = { readonly endpoint: string } & Readonly<Record<string, string>>;

/**
 * What a run skipped: an object the control plane listed but then answered NotFound for (a stale
 * policy id, an unbound repository's access gateway), a data-map location that is not
 * `schema.table.column`, or a repository that took longer than its timeout. Each skip is logged
 * as a warning with ids (never a body) and kept as a `skipped` connector event until the stage
 * yields it ({@link drain}), so the agent counts it in the run's result. Whole objects use
 * their asset type as kind (`CyralPolicy`), parts of one their own name (`accessGateway`).
 */
export class SkipTally {
  readonly #logger: Logger;
  readonly #pending: ConnectorEvent[] = [];
  readonly #counts = new Map<string, number>();

  constructor(logger: Logger) {
    this.#logger = logger;
  }

  /** Records one skipped object of `kind`, why, and the ids that locate it. */
  skip(kind: string, reason: SkipReason, where: SkipWhere, message?: string): void {
    this.#counts.set(kind, (this.#counts.get(kind) ?? 0) + 1);
    const { endpoint, ...ids } = where;
    this.#logger.warn({ kind, reason, ...where }, 'Skipped a Cyral object');
    this.#pending.push({
      type: 'skipped',
      kind,
      id: Object.values(ids).join('/'),
      reason,
      message: message ?? `${endpoint} answered NotFound`,
    });
  }

  /** The skip events recorded since the last drain, to yield before the next checkpoint. */
  drain(): ConnectorEvent[] {
    return this.#pending.splice(0);
  }

  /** Takes over the skips of one object's own tally once that object is done. */
  adopt(other: SkipTally): void {
    for (const [kind, count] of other.#counts) {
      this.#counts.set(kind, (this.#counts.get(kind) ?? 0) + count);
    }
    this.#pending.push(...other.drain());
  }

  /** Skipped objects per kind, for the run's closing log line. */
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

import type { Logger } from '../../agent/plugin-api/index.ts';

/** What can be skipped: a model the user cannot open, or one admin-only part of a model. */
export type SkipKind =
  | 'model'
  | 'lists'
  | 'listMetadata'
  | 'modules'
  | 'views'
  | 'lineItems'
  | 'versions'
  | 'modelCalendar';

/** Ids of what was skipped (never names: they could be sensitive, ids are what ops look up). */
export interface SkipIds {
  readonly workspaceId: string;
  readonly modelId: string;
  readonly listId?: string;
}

/**
 * The one place skipped parts are counted: each is logged as a warning with its ids and the
 * status Anaplan answered, and `report()` logs the counts per kind when the run ends.
 */
export class SkipLedger {
  readonly #logger: Logger;
  readonly #counts = new Map<SkipKind, number>();

  constructor(logger: Logger) {
    this.#logger = logger;
  }

  record(kind: SkipKind, ids: SkipIds, status: number): void {
    this.#counts.set(kind, (this.#counts.get(kind) ?? 0) + 1);
    this.#logger.warn({ kind, ...ids, status }, 'Anaplan did not let this user read it; skipped');
  }

  /** Skipped counts per kind. */
  counts(): Readonly<Partial<Record<SkipKind, number>>> {
    return Object.fromEntries(this.#counts);
  }

  /** Logs the counts per kind (once, at the end of a read). */
  report(): void {
    const skipped = this.counts();
    const total = Object.values(skipped).reduce((sum, count) => sum + count, 0);
    this.#logger.info({ skipped, skippedTotal: total }, 'Anaplan extraction finished');
  }
}

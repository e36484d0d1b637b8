import type { ConnectorEvent, Logger } from '../../agent/plugin-api/index.ts';
import { ANAPLAN_TYPES } from './map.ts';

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
 * status Anaplan answered, and kept as a `skipped` connector event (reason `forbidden`, or
 * `timeout` for a model slower than its timeout) until the model's events are yielded
 * ({@link drain}), so the agent counts it in the run's result. A model the user cannot open is
 * skipped whole, under its asset type `AnaplanModel`; a part of a model under its own name.
 * `report()` logs the counts per kind when the run ends.
 */
export class SkipLedger {
  readonly #logger: Logger;
  readonly #counts = new Map<SkipKind, number>();
  readonly #pending: ConnectorEvent[] = [];

  constructor(logger: Logger) {
    this.#logger = logger;
  }

  record(kind: SkipKind, ids: SkipIds, status: number): void {
    this.#count(kind);
    this.#logger.warn({ kind, ...ids, status }, 'Anaplan did not let this user read it; skipped');
    this.#pending.push({
      type: 'skipped',
      kind: kind === 'model' ? ANAPLAN_TYPES.model : kind,
      id: ids.listId ?? ids.modelId,
      reason: 'forbidden',
      message: `Anaplan answered ${String(status)} to this user`,
    });
  }

  /** A model that took longer than `modelTimeoutMs`: skipped whole, the run goes on. */
  timedOut(ids: SkipIds, timeoutMs: number): void {
    this.#count('model');
    this.#logger.warn({ kind: 'model', ...ids, timeoutMs }, 'Anaplan model too slow; skipped');
    this.#pending.push({
      type: 'skipped',
      kind: ANAPLAN_TYPES.model,
      id: ids.modelId,
      reason: 'timeout',
      message: `took longer than modelTimeoutMs (${String(timeoutMs)} ms)`,
    });
  }

  /** The skip events recorded since the last drain, to yield before the next checkpoint. */
  drain(): ConnectorEvent[] {
    return this.#pending.splice(0);
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

  #count(kind: SkipKind): void {
    this.#counts.set(kind, (this.#counts.get(kind) ?? 0) + 1);
  }
}

import { PerimeterError, SKIP_REASONS } from '../plugin-api/index.ts';
import type { ConnectorEvent, SkipReason } from '../plugin-api/index.ts';
import type {
  KindCounts,
  Mismatch,
  RunCounts,
  SkippedObject,
  TallySnapshot,
} from '../sink/types.ts';
import {
  MAX_ID_CHARS,
  MAX_KIND_CHARS,
  MAX_LISTED_SKIPS,
  MAX_MESSAGE_CHARS,
} from '../sink/counts.ts';
import type { EncodedAssets } from '../sink/ndjson.ts';

export { MAX_LISTED_SKIPS, TallySnapshotSchema } from '../sink/counts.ts';

interface MutableCounts {
  reported: number | undefined;
  extracted: number;
  skipped: number;
  byReason: Map<SkipReason, number>;
}

/**
 * The one place a run's honest counts are kept: per kind, what the source reported, what was
 * extracted (assets by `typeName`) and what was skipped, with reasons; the first skipped objects
 * by id. It sees every connector event, is snapshotted into each checkpoint and restored from
 * the one a resumed run starts at, so the final counts are those of the whole run.
 */
export class RunTally {
  readonly #kinds = new Map<string, MutableCounts>();
  readonly #skipped: SkippedObject[] = [];
  #skippedTotal = 0;

  constructor(resume?: TallySnapshot) {
    if (resume === undefined) return;
    for (const [kind, counts] of Object.entries(resume.kinds)) {
      this.#kinds.set(kind, {
        reported: counts.reported,
        extracted: counts.extracted,
        skipped: counts.skipped,
        byReason: new Map(Object.entries(counts.skippedByReason ?? {}) as [SkipReason, number][]),
      });
    }
    this.#skipped.push(...resume.skipped);
    this.#skippedTotal = resume.skippedTotal;
  }

  /** Counts one connector event; a malformed `reported` or `skipped` is the connector's bug. */
  count(event: ConnectorEvent): void {
    switch (event.type) {
      case 'asset':
        this.#of(event.asset.typeName).extracted += 1;
        return;
      case 'reported':
        this.#reported(event.kind, event.total);
        return;
      case 'skipped':
        this.#skip(event);
        return;
      case 'checkpoint':
        return;
    }
  }

  /** Counts the assets of a block a run thread encoded, as `count` counts each asset event. */
  countEncoded(block: EncodedAssets): void {
    for (let index = 0; index < block.count; index += 1) {
      this.#of(block.typeNameAt(index)).extracted += 1;
    }
  }

  /** The counts so far, for a checkpoint. */
  snapshot(): TallySnapshot {
    const kinds: Record<string, KindCounts> = {};
    for (const [kind, counts] of [...this.#kinds].sort(([a], [b]) => (a < b ? -1 : 1))) {
      kinds[kind] = {
        ...(counts.reported === undefined ? {} : { reported: counts.reported }),
        extracted: counts.extracted,
        skipped: counts.skipped,
        ...(counts.byReason.size === 0
          ? {}
          : { skippedByReason: Object.fromEntries(counts.byReason) }),
      };
    }
    return { kinds, skippedTotal: this.#skippedTotal, skipped: [...this.#skipped] };
  }

  /** The run's result: partial when anything was skipped, reconciled when every total adds up. */
  result(): RunCounts {
    const { kinds, skippedTotal, skipped } = this.snapshot();
    const mismatches: Mismatch[] = [];
    for (const [kind, counts] of Object.entries(kinds)) {
      if (counts.reported !== undefined && counts.reported !== counts.extracted + counts.skipped) {
        const { reported, extracted, skipped: skippedCount } = counts;
        mismatches.push({ kind, reported, extracted, skipped: skippedCount });
      }
    }
    return {
      kinds,
      partial: skippedTotal > 0,
      skipped: { total: skippedTotal, truncated: skippedTotal > skipped.length, items: skipped },
      reconciled: mismatches.length === 0,
      mismatches,
    };
  }

  #of(kind: string): MutableCounts {
    let counts = this.#kinds.get(kind);
    if (counts === undefined) {
      counts = { reported: undefined, extracted: 0, skipped: 0, byReason: new Map() };
      this.#kinds.set(kind, counts);
    }
    return counts;
  }

  #reported(kind: string, total: number): void {
    checkKind(kind, 'reported');
    if (!Number.isSafeInteger(total) || total < 0) {
      throw connectorBug('reported', 'a total that is no count (a whole number ≥ 0)');
    }
    const counts = this.#of(kind);
    counts.reported = (counts.reported ?? 0) + total;
  }

  #skip(event: Extract<ConnectorEvent, { type: 'skipped' }>): void {
    checkKind(event.kind, 'skipped');
    if (!SKIP_REASONS.includes(event.reason)) {
      throw connectorBug('skipped', `an unknown reason (one of ${SKIP_REASONS.join(', ')})`);
    }
    const counts = this.#of(event.kind);
    counts.skipped += 1;
    counts.byReason.set(event.reason, (counts.byReason.get(event.reason) ?? 0) + 1);
    this.#skippedTotal += 1;
    if (this.#skipped.length < MAX_LISTED_SKIPS) {
      this.#skipped.push({
        kind: event.kind,
        id: event.id.slice(0, MAX_ID_CHARS),
        reason: event.reason,
        message: event.message.slice(0, MAX_MESSAGE_CHARS),
      });
    }
  }
}

function checkKind(kind: string, type: string): void {
  if (typeof kind !== 'string' || kind.length === 0 || kind.length > MAX_KIND_CHARS) {
    throw connectorBug(type, `a kind that is not 1–${String(MAX_KIND_CHARS)} characters`);
  }
}

function connectorBug(type: string, what: string): PerimeterError {
  return new PerimeterError(
    'INTERNAL',
    `The connector yielded a ${type} event with ${what}; this is a bug in the connector`,
  );
}

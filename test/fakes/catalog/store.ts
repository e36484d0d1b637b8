import { createHash } from 'node:crypto';

/** A batch the receiver stored. */
export interface StoredBatch {
  /** The Idempotency-Key, `{runId}:{seq}`. */
  readonly key: string;
  readonly runId: string;
  readonly seq: number;
  readonly assets: number;
  /** Uncompressed NDJSON bytes. */
  readonly bytes: number;
  /** sha256 of the uncompressed NDJSON: a re-sent batch must carry the same content. */
  readonly sha256: string;
}

/** A repeated key whose content differed from the stored batch: a broken idempotency promise. */
export interface Conflict {
  readonly key: string;
  readonly storedSha256: string;
  readonly receivedSha256: string;
}

/** A `complete` call as the receiver accepted it. */
export interface CompleteCall {
  readonly runId: string;
  readonly assets: number;
  readonly batches: number;
  /** The run's counts (kinds, partial, skipped, reconciled, mismatches), after an extract. */
  readonly counts?: Record<string, unknown>;
}

/** What the catalog holds: batches by key, assets by qualifiedName, duplicates and conflicts. */
export class CatalogStore {
  readonly #batches = new Map<string, StoredBatch>();
  readonly #assetCounts = new Map<string, number>();
  readonly conflicts: Conflict[] = [];
  readonly completes: CompleteCall[] = [];
  duplicates = 0;

  /** Stores a batch unless its key is known; returns 'stored' or 'duplicate'. */
  put(
    key: { runId: string; seq: number; raw: string },
    ndjson: Buffer,
    qualifiedNames: readonly string[],
  ): 'stored' | 'duplicate' {
    const sha256 = createHash('sha256').update(ndjson).digest('hex');
    const existing = this.#batches.get(key.raw);
    if (existing !== undefined) {
      this.duplicates += 1;
      if (existing.sha256 !== sha256) {
        this.conflicts.push({
          key: key.raw,
          storedSha256: existing.sha256,
          receivedSha256: sha256,
        });
      }
      return 'duplicate';
    }
    this.#batches.set(key.raw, {
      key: key.raw,
      runId: key.runId,
      seq: key.seq,
      assets: qualifiedNames.length,
      bytes: ndjson.length,
      sha256,
    });
    for (const name of qualifiedNames) {
      this.#assetCounts.set(name, (this.#assetCounts.get(name) ?? 0) + 1);
    }
    return 'stored';
  }

  /** Every stored batch, in arrival order. */
  batches(runId?: string): StoredBatch[] {
    const all = [...this.#batches.values()];
    return runId === undefined ? all : all.filter((batch) => batch.runId === runId);
  }

  /** How many stored batches carried each qualifiedName (1 everywhere means exactly once). */
  assetCounts(): ReadonlyMap<string, number> {
    return this.#assetCounts;
  }

  /** What a `complete` claiming `batches` batches lacks: missing seqs and the assets they hold. */
  checkComplete(runId: string, batches: number): { missingSeqs: number; storedAssets: number } {
    let storedAssets = 0;
    let missingSeqs = 0;
    for (let seq = 0; seq < batches; seq += 1) {
      const batch = this.#batches.get(`${runId}:${seq}`);
      if (batch === undefined) {
        missingSeqs += 1;
      } else {
        storedAssets += batch.assets;
      }
    }
    return { missingSeqs, storedAssets };
  }
}

import type { JsonObject } from '../../agent/plugin-api/index.ts';
import type { Identity, Issue } from './records.ts';

/** Most distinct issue names or policy uids kept per summary; the rest is only counted. */
export const MAX_DISTINCT_NAMES = 100;

// Canonical spellings; Cyera's enum casing varies ("Critical", "HIGH").
const SEVERITIES = ['Critical', 'High', 'Medium', 'Low', 'Informational'];
const STATUSES = ['Open', 'InProgress', 'Resolved', 'Closed', 'Ignored'];
const ACCESS_LEVELS = ['Read', 'Write', 'Admin', 'Owner'];

/**
 * Counts by label, case-insensitively. A label is shown in its canonical spelling when it has
 * one, else as first seen.
 */
class LabelCounter {
  readonly #counts = new Map<string, { label: string; count: number }>();
  readonly #canonical: ReadonlyMap<string, string>;

  constructor(canonical: readonly string[] = []) {
    this.#canonical = new Map(canonical.map((label) => [label.toLowerCase(), label]));
  }

  add(label: string | null | undefined): void {
    const trimmed = label?.trim() ?? '';
    const key = trimmed === '' ? 'unknown' : trimmed.toLowerCase();
    const entry = this.#counts.get(key);
    if (entry === undefined) {
      const shown = this.#canonical.get(key) ?? (trimmed === '' ? 'Unknown' : trimmed);
      this.#counts.set(key, { label: shown, count: 1 });
    } else {
      entry.count += 1;
    }
  }

  toJson(): Record<string, number> {
    const entries = [...this.#counts.values()].sort((a, b) => a.label.localeCompare(b.label));
    return Object.fromEntries(entries.map(({ label, count }) => [label, count]));
  }
}

/** Distinct strings, at most {@link MAX_DISTINCT_NAMES}; counts what did not fit. */
class DistinctNames {
  readonly #names = new Set<string>();
  #dropped = 0;

  add(name: string | null | undefined): void {
    if (name == null || name === '' || this.#names.has(name)) {
      return;
    }
    if (this.#names.size < MAX_DISTINCT_NAMES) {
      this.#names.add(name);
    } else {
      this.#dropped += 1;
    }
  }

  get values(): string[] {
    return [...this.#names].sort();
  }

  get dropped(): number {
    return this.#dropped;
  }
}

/** Issues of one database (or one datastore): counts, names and policies, no finding text. */
export class IssueTally {
  #total = 0;
  readonly #severity = new LabelCounter(SEVERITIES);
  readonly #status = new LabelCounter(STATUSES);
  readonly #names = new DistinctNames();
  readonly #policies = new DistinctNames();

  add(issue: Issue): void {
    this.#total += 1;
    this.#severity.add(issue.severity);
    this.#status.add(issue.status);
    this.#names.add(issue.name);
    this.#policies.add(issue.policyUid ?? issue.risk?.policyUid);
  }

  toJson(): JsonObject {
    return {
      total: this.#total,
      bySeverity: this.#severity.toJson(),
      byStatus: this.#status.toJson(),
      names: this.#names.values,
      policyUids: this.#policies.values,
      namesNotListed: this.#names.dropped,
    };
  }
}

/** Access to one database (or one datastore): counts only, never who. */
export class IdentityTally {
  #total = 0;
  #admins = 0;
  #stale = 0;
  readonly #accessLevel = new LabelCounter(ACCESS_LEVELS);
  readonly #category = new LabelCounter();

  add(identity: Identity): void {
    this.#total += 1;
    this.#admins += identity.isAdmin === true ? 1 : 0;
    this.#stale += identity.isStale === true ? 1 : 0;
    this.#accessLevel.add(identity.accessLevel);
    this.#category.add(identity.category);
  }

  toJson(): JsonObject {
    return {
      total: this.#total,
      byAccessLevel: this.#accessLevel.toJson(),
      byCategory: this.#category.toJson(),
      admins: this.#admins,
      stale: this.#stale,
    };
  }
}

/**
 * Tallies of one datastore, by database. A record that names no database counts at the
 * datastore level: Cyera does not always know the database of a finding or a grant.
 */
export class ScopedTallies<T extends { toJson(): JsonObject }> {
  readonly datastore: T;
  readonly #databases = new Map<string, T>();
  readonly #create: () => T;

  constructor(create: () => T) {
    this.#create = create;
    this.datastore = create();
  }

  /** The tally a record of `databaseName` goes to. */
  scope(databaseName: string | null | undefined): T {
    if (databaseName == null || databaseName === '') {
      return this.datastore;
    }
    let tally = this.#databases.get(databaseName);
    if (tally === undefined) {
      tally = this.#create();
      this.#databases.set(databaseName, tally);
    }
    return tally;
  }

  /** The tally of a database, or an empty one (so stale catalog values are overwritten). */
  database(databaseName: string): JsonObject {
    return (this.#databases.get(databaseName) ?? this.#create()).toJson();
  }

  /** Names of the databases with at least one record. */
  databaseNames(): string[] {
    return [...this.#databases.keys()];
  }
}

/** Issues of the given datastores, from one pass over the tenant's issues. */
export async function tallyIssues(
  issues: AsyncIterable<Issue>,
  datastoreUids: ReadonlySet<string>,
): Promise<Map<string, ScopedTallies<IssueTally>>> {
  const tallies = new Map<string, ScopedTallies<IssueTally>>();
  for await (const issue of issues) {
    const uid = issue.datastoreUid;
    if (uid == null || !datastoreUids.has(uid)) {
      continue;
    }
    let scoped = tallies.get(uid);
    if (scoped === undefined) {
      scoped = new ScopedTallies(() => new IssueTally());
      tallies.set(uid, scoped);
    }
    scoped.scope(issue.databaseName).add(issue);
  }
  return tallies;
}

/** Identities of one datastore, by database. */
export async function tallyIdentities(
  identities: AsyncIterable<Identity>,
): Promise<ScopedTallies<IdentityTally>> {
  const scoped = new ScopedTallies(() => new IdentityTally());
  for await (const identity of identities) {
    scoped.scope(identity.databaseName).add(identity);
  }
  return scoped;
}

import { EMPTY_HEAD, LedgerEntrySchema, entryHash } from './entry.ts';
import type { ChainHead, LedgerEntry } from './entry.ts';

/** What a chain verification found. */
export type ChainVerdict =
  | { readonly ok: true; readonly head: ChainHead; readonly entries: number }
  | {
      readonly ok: false;
      /** 1-based position of the first bad entry in what was read. */
      readonly position: number;
      /** Its sequence number, when it could be read. */
      readonly seq?: number;
      readonly problem: string;
    };

/** A stored chain: where it starts (the anchor), its entries in stored order, and its head. */
export interface StoredChain {
  /** The last entry removed by retention, or the empty chain. */
  readonly anchor: ChainHead;
  /** The entries as stored text, oldest first. */
  readonly entries: readonly string[];
  /** The head the store says it has; checked against the last entry when given. */
  readonly head?: ChainHead;
}

/**
 * Checks a chain from its anchor: each entry parses, follows the previous one by sequence
 * number, names the previous hash, and hashes to what it says. The first failure names the
 * entry; an edited entry fails its own hash, a removed or moved one breaks the sequence.
 */
export function verifyChain(chain: StoredChain): ChainVerdict {
  let previous = chain.anchor;
  for (const [index, text] of chain.entries.entries()) {
    const position = index + 1;
    const entry = readEntry(text);
    if (entry === undefined) {
      return { ok: false, position, problem: `entry at position ${position} cannot be read` };
    }
    const problem = linkProblem(entry, previous);
    if (problem !== undefined) {
      return { ok: false, position, seq: entry.seq, problem };
    }
    previous = { seq: entry.seq, hash: entry.hash };
  }
  const head = chain.head;
  if (head !== undefined && (head.seq !== previous.seq || head.hash !== previous.hash)) {
    return {
      ok: false,
      position: chain.entries.length,
      seq: previous.seq,
      problem: `the chain ends at entry ${previous.seq} but its head is entry ${head.seq}: entries after ${previous.seq} are missing`,
    };
  }
  return { ok: true, head: previous, entries: chain.entries.length };
}

/** Entries of a chain that is read from its first line (a ledger file): the anchor is the first entry's link. */
export function anchorOf(entries: readonly string[]): ChainHead {
  const first = entries[0] === undefined ? undefined : readEntry(entries[0]);
  return first === undefined ? EMPTY_HEAD : { seq: first.seq - 1, hash: first.prevHash };
}

/** Parses one stored entry; undefined when it is not an entry. */
export function readEntry(text: string): LedgerEntry | undefined {
  try {
    const parsed = LedgerEntrySchema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

function linkProblem(entry: LedgerEntry, previous: ChainHead): string | undefined {
  if (entry.seq !== previous.seq + 1) {
    return `entry ${entry.seq} follows entry ${previous.seq}: entries are missing or out of order`;
  }
  if (entry.prevHash !== previous.hash) {
    return `entry ${entry.seq} does not link to the hash of entry ${previous.seq}`;
  }
  const { hash, ...unsealed } = entry;
  if (entryHash(unsealed) !== hash) {
    return `entry ${entry.seq} was altered: its content does not match its hash`;
  }
  return undefined;
}

import { EMPTY_HEAD, formatHead, parseHead, sealEntry, serializeEntry } from '../ledger/entry.ts';
import type { ChainHead, LedgerDraft, LedgerEntry } from '../ledger/entry.ts';
import type { LedgerStore } from '../ledger/ledger.ts';
import type { StoredChain } from '../ledger/verify.ts';
import { PerimeterError } from '../plugin-api/index.ts';
import type { RedisClient } from './redis.ts';

/**
 * Appends sealed entries (one or a batch, chained in order) if the head is still the one the
 * first was sealed after (compare and set), then drops entries older than the cutoff from the
 * front, keeping the last dropped one's head as the anchor so the remaining chain still
 * verifies. Returns {1} or {0, currentHead}.
 * KEYS: entries list, head, anchor. ARGV: expected head, new head (the last entry's), cutoff
 * time (ISO), empty head, most entries to drop, then the entries.
 */
const APPEND_SCRIPT = `
local head = redis.call('GET', KEYS[2]) or ARGV[4]
if head ~= ARGV[1] then return {0, head} end
redis.call('RPUSH', KEYS[1], unpack(ARGV, 6))
redis.call('SET', KEYS[2], ARGV[2])
local dropped = 0
while dropped < tonumber(ARGV[5]) do
  local first = redis.call('LINDEX', KEYS[1], 0)
  if not first then break end
  local ok, entry = pcall(cjson.decode, first)
  if not ok or type(entry) ~= 'table' or type(entry.time) ~= 'string' or entry.time >= ARGV[3] then break end
  redis.call('LPOP', KEYS[1])
  redis.call('SET', KEYS[3], string.format('%d', entry.seq) .. ':' .. tostring(entry.hash))
  dropped = dropped + 1
end
return {1}
`;

/** Appends racing with other processes retry this often before giving up. */
const MAX_APPEND_ATTEMPTS = 100;
/**
 * Entries dropped by retention per append besides one per entry appended, so one append never
 * does unbounded work and retention keeps pace with batches.
 */
const MAX_DROPPED_PER_APPEND = 50;
/** Most entries appended by one script call (the rest wait for the next call). */
const MAX_BATCH = 64;
const DAY_MS = 24 * 60 * 60 * 1000;

/** The Redis ledger: the chain of record, shared by every process of the agent. */
export interface RedisLedgerStore extends LedgerStore {
  /** Anchor, entries and head read in one transaction, for `perimeter ledger verify|show`. */
  read(): Promise<StoredChain>;
}

/** Builds the ledger on Redis: a list of entries, a head key and an anchor key. */
export function createRedisLedgerStore(options: {
  readonly client: RedisClient;
  readonly prefix: string;
  /** Entries older than this are dropped (the chain stays verifiable from its anchor). */
  readonly retentionDays: number;
  readonly now?: () => number;
}): RedisLedgerStore {
  const { client } = options;
  const now = options.now ?? Date.now;
  const keys = {
    entries: `${options.prefix}:ledger:entries`,
    head: `${options.prefix}:ledger:head`,
    anchor: `${options.prefix}:ledger:anchor`,
  };
  const readHead = async (key: string): Promise<ChainHead> => {
    const text = await client.get(key);
    return text === null ? EMPTY_HEAD : (parseHead(text) ?? unreadable(key));
  };
  // Appends of this process go one call at a time, each sealed after the head the previous one
  // left: concurrent sends (acks, event posts) would otherwise race each other's compare-and-set
  // and retry. Records that arrive while a call is in flight wait for the next one, which seals
  // and appends them together (group commit): one Redis call for many records under load.
  // Another process moving the head is still caught by the compare-and-set.
  let known: ChainHead | undefined;
  const waiting: Waiting[] = [];
  let flushing = false;
  const appendBatch = async (drafts: readonly LedgerDraft[]): Promise<LedgerEntry[]> => {
    let head = known ?? (await readHead(keys.head));
    for (let attempt = 1; attempt <= MAX_APPEND_ATTEMPTS; attempt += 1) {
      const entries = sealAfter(drafts, head);
      const last = entries.at(-1) ?? head;
      const cutoff = new Date(now() - options.retentionDays * DAY_MS).toISOString();
      const [appended, current] = (await client.eval(
        APPEND_SCRIPT,
        3,
        keys.entries,
        keys.head,
        keys.anchor,
        formatHead(head),
        formatHead(last),
        cutoff,
        formatHead(EMPTY_HEAD),
        MAX_DROPPED_PER_APPEND + entries.length,
        ...entries.map(serializeEntry),
      )) as [number, string?];
      if (appended === 1) {
        known = last;
        return entries;
      }
      head = parseHead(current ?? '') ?? unreadable(keys.head);
    }
    throw new PerimeterError(
      'INTERNAL',
      `The outbound ledger head kept moving for ${MAX_APPEND_ATTEMPTS} attempts; the request is not recorded.`,
      { retryable: true },
    );
  };
  const flush = async (): Promise<void> => {
    while (waiting.length > 0) {
      const batch = waiting.splice(0, MAX_BATCH);
      try {
        const entries = await appendBatch(batch.map((item) => item.draft));
        entries.forEach((entry, index) => {
          batch[index]?.resolve(entry);
        });
      } catch (error) {
        // A failed append forgets the head it assumed; the next one reads it again.
        known = undefined;
        batch.forEach((item) => {
          item.reject(error);
        });
      }
    }
    flushing = false;
  };
  return {
    head: () => readHead(keys.head),
    append(draft) {
      return new Promise<LedgerEntry>((resolve, reject) => {
        waiting.push({ draft, resolve, reject });
        if (!flushing) {
          // From the next microtask, so records made in the same turn go in one call.
          flushing = true;
          queueMicrotask(() => void flush());
        }
      });
    },
    async read() {
      const replies = await client
        .multi()
        .get(keys.anchor)
        .get(keys.head)
        .lrange(keys.entries, 0, -1)
        .exec();
      const [anchor, head, entries] = (replies ?? []).map(([error, value]) => {
        if (error !== null) {
          throw error;
        }
        return value;
      }) as [string | null, string | null, string[]];
      return {
        anchor: anchor === null ? EMPTY_HEAD : (parseHead(anchor) ?? unreadable(keys.anchor)),
        head: head === null ? EMPTY_HEAD : (parseHead(head) ?? unreadable(keys.head)),
        entries,
      };
    },
  };
}

/** A record waiting for the next append call. */
interface Waiting {
  readonly draft: LedgerDraft;
  resolve(entry: LedgerEntry): void;
  reject(error: unknown): void;
}

/** Seals drafts one after the other, the first after `head`. */
function sealAfter(drafts: readonly LedgerDraft[], head: ChainHead): LedgerEntry[] {
  const entries: LedgerEntry[] = [];
  let previous = head;
  for (const draft of drafts) {
    const entry = sealEntry(draft, previous);
    entries.push(entry);
    previous = entry;
  }
  return entries;
}

function unreadable(key: string): never {
  throw new PerimeterError(
    'LEDGER_BROKEN',
    `The ledger key ${key} does not hold a chain head (seq:hash).`,
    { context: { key } },
  );
}

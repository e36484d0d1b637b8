import { EMPTY_HEAD, formatHead, parseHead, sealEntry, serializeEntry } from '../ledger/entry.ts';
import type { ChainHead, LedgerDraft, LedgerEntry } from '../ledger/entry.ts';
import type { LedgerStore } from '../ledger/ledger.ts';
import type { StoredChain } from '../ledger/verify.ts';
import { PerimeterError } from '../plugin-api/index.ts';
import type { RedisClient } from './redis.ts';

/**
 * Appends one sealed entry if the head is still the one it was sealed after (compare and set),
 * then drops entries older than the cutoff from the front, keeping the last dropped one's head
 * as the anchor so the remaining chain still verifies. Returns {1} or {0, currentHead}.
 * KEYS: entries list, head, anchor. ARGV: expected head, entry, new head, cutoff time (ISO),
 * empty head, most entries to drop.
 */
const APPEND_SCRIPT = `
local head = redis.call('GET', KEYS[2]) or ARGV[5]
if head ~= ARGV[1] then return {0, head} end
redis.call('RPUSH', KEYS[1], ARGV[2])
redis.call('SET', KEYS[2], ARGV[3])
local dropped = 0
while dropped < tonumber(ARGV[6]) do
  local first = redis.call('LINDEX', KEYS[1], 0)
  if not first then break end
  local ok, entry = pcall(cjson.decode, first)
  if not ok or type(entry) ~= 'table' or type(entry.time) ~= 'string' or entry.time >= ARGV[4] then break end
  redis.call('LPOP', KEYS[1])
  redis.call('SET', KEYS[3], string.format('%d', entry.seq) .. ':' .. tostring(entry.hash))
  dropped = dropped + 1
end
return {1}
`;

/** Appends racing with other processes retry this often before giving up. */
const MAX_APPEND_ATTEMPTS = 100;
/** Entries dropped by retention per append, so one append never does unbounded work. */
const MAX_DROPPED_PER_APPEND = 50;
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
  // Appends of this process go one at a time, each sealed after the head the previous one left:
  // concurrent sends (acks, event posts) would otherwise race each other's compare-and-set and
  // retry. Another process moving the head is still caught by the compare-and-set.
  let known: ChainHead | undefined;
  let tail: Promise<unknown> = Promise.resolve();
  const appendNow = async (draft: LedgerDraft): Promise<LedgerEntry> => {
    let head = known ?? (await readHead(keys.head));
    for (let attempt = 1; attempt <= MAX_APPEND_ATTEMPTS; attempt += 1) {
      const entry = sealEntry(draft, head);
      const cutoff = new Date(now() - options.retentionDays * DAY_MS).toISOString();
      const [appended, current] = (await client.eval(
        APPEND_SCRIPT,
        3,
        keys.entries,
        keys.head,
        keys.anchor,
        formatHead(head),
        serializeEntry(entry),
        formatHead(entry),
        cutoff,
        formatHead(EMPTY_HEAD),
        MAX_DROPPED_PER_APPEND,
      )) as [number, string?];
      if (appended === 1) {
        known = entry;
        return entry;
      }
      head = parseHead(current ?? '') ?? unreadable(keys.head);
    }
    throw new PerimeterError(
      'INTERNAL',
      `The outbound ledger head kept moving for ${MAX_APPEND_ATTEMPTS} attempts; the request is not recorded.`,
      { retryable: true },
    );
  };
  return {
    head: () => readHead(keys.head),
    append(draft) {
      const appended = tail.then(() => appendNow(draft));
      // A failed append forgets the head it assumed; the next one reads it again.
      tail = appended.catch(() => {
        known = undefined;
      });
      return appended;
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

function unreadable(key: string): never {
  throw new PerimeterError(
    'LEDGER_BROKEN',
    `The ledger key ${key} does not hold a chain head (seq:hash).`,
    { context: { key } },
  );
}

import type { Logger as PinoLogger } from 'pino';
import { raceAbort, sleep } from '../plugin-api/index.ts';
import type { EventOutbox, OutboxEntry, RunEvent, RunEventBody } from '../run/contract.ts';
import type { RedisClient } from './redis.ts';

/**
 * Appends one event atomically: the run's next `seq` (INCR, from 0) and the stream entry, so
 * events of a run are numbered in the order they enter the stream whichever process appends
 * them. With a Cluster both keys carry the prefix's hash tag and live in one slot.
 */
const APPEND_SCRIPT = `
local seq = redis.call('INCR', KEYS[1]) - 1
redis.call('EXPIRE', KEYS[1], ARGV[4])
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[5], '*', 'runId', ARGV[1], 'seq', seq, 'at', ARGV[3], 'body', ARGV[2])
return seq
`;

/** What the Redis outbox needs. */
export interface RedisOutboxOptions {
  /** For appends, acks and counts. */
  readonly client: RedisClient;
  /** A client of its own for the blocking XREAD (only the link reads). */
  readonly reader?: RedisClient;
  readonly prefix: string;
  /** Undelivered events kept at most (the stream is trimmed beyond it, oldest first). */
  readonly maxLength: number;
  /** How long a run's seq counter lives after its last event. */
  readonly seqTtlSeconds: number;
  readonly logger: PinoLogger;
}

type StreamReply = [string, [string, string[]][]][] | null;

/**
 * The event outbox on a Redis stream. Workers append; the link reads after its cursor, delivers
 * and acknowledges (XDEL), so the stream holds exactly the undelivered events and a restarted
 * link, whose cursor starts at the beginning, delivers again whatever was not acknowledged.
 * One link process should read it: two would both deliver (the control plane dedupes by
 * runId + seq, but order across them is not kept).
 */
export function createRedisOutbox(options: RedisOutboxOptions): EventOutbox {
  const { client, prefix } = options;
  const streamKey = `${prefix}:events`;
  let cursor = '0-0';
  return {
    async append(runId: string, event: RunEventBody): Promise<void> {
      await client.eval(
        APPEND_SCRIPT,
        2,
        `${prefix}:events:seq:${runId}`,
        streamKey,
        runId,
        JSON.stringify(event),
        new Date().toISOString(),
        options.seqTtlSeconds,
        options.maxLength,
      );
    },
    async read({ signal, max, blockMs }): Promise<OutboxEntry[]> {
      const reader = options.reader;
      if (reader === undefined) {
        throw new Error('This outbox was built without a reader');
      }
      signal.throwIfAborted();
      // XREAD takes no signal: given up when the link stops, its late reply is dropped.
      const reply = await raceAbort<StreamReply>(
        reader.xread('COUNT', max, 'BLOCK', blockMs, 'STREAMS', streamKey, cursor),
        signal,
      ).catch((error: unknown) => {
        if (signal.aborted) {
          return null;
        }
        throw error;
      });
      const entries = reply?.[0]?.[1] ?? [];
      const last = entries.at(-1);
      if (last !== undefined) {
        cursor = last[0];
      }
      return decodeEntries(entries, options.logger, (ids) => client.xdel(streamKey, ...ids));
    },
    async ack(ids: readonly string[]): Promise<void> {
      if (ids.length > 0) {
        await client.xdel(streamKey, ...ids);
      }
    },
    async pending(): Promise<number> {
      return client.xlen(streamKey);
    },
  };
}

/**
 * The outbox of standalone mode: no control plane reads events, so they are not kept (the
 * worker logs each run's outcome anyway).
 */
export function createDiscardingOutbox(): EventOutbox {
  return {
    append: () => Promise.resolve(),
    read: async ({ signal, blockMs }) => {
      await sleep(blockMs, { signal }).catch(() => undefined);
      return [];
    },
    ack: () => Promise.resolve(),
    pending: () => Promise.resolve(0),
  };
}

async function decodeEntries(
  entries: readonly [string, string[]][],
  logger: PinoLogger,
  drop: (ids: string[]) => Promise<unknown>,
): Promise<OutboxEntry[]> {
  const decoded: OutboxEntry[] = [];
  const broken: string[] = [];
  for (const [id, fields] of entries) {
    const event = decodeEvent(fields);
    if (event === undefined) {
      broken.push(id);
    } else {
      decoded.push({ id, event });
    }
  }
  if (broken.length > 0) {
    // Only a foreign writer could put these here; keeping them would block nothing but
    // would be re-read forever by every new link.
    logger.warn({ entries: broken.length }, 'Dropped malformed run events from the outbox');
    await drop(broken);
  }
  return decoded;
}

function decodeEvent(fields: readonly string[]): RunEvent | undefined {
  const map = new Map<string, string>();
  for (let index = 0; index + 1 < fields.length; index += 2) {
    map.set(fields[index] ?? '', fields[index + 1] ?? '');
  }
  const runId = map.get('runId');
  const seq = Number(map.get('seq'));
  const at = map.get('at');
  try {
    const body = JSON.parse(map.get('body') ?? '') as RunEventBody;
    if (
      runId === undefined ||
      at === undefined ||
      !Number.isInteger(seq) ||
      typeof body.type !== 'string'
    ) {
      return undefined;
    }
    return { ...body, runId, seq, at };
  } catch {
    return undefined;
  }
}

const HISTORY_PAGE = 1_000;

/**
 * The events of one run still in the outbox (not yet delivered to the control plane), oldest
 * first, for `perimeter runs show`. Reads the stream in pages; it holds at most
 * `queue.eventsMaxLength` entries.
 */
export async function outboxEventsOf(
  client: RedisClient,
  prefix: string,
  runId: string,
): Promise<RunEvent[]> {
  const streamKey = `${prefix}:events`;
  const events: RunEvent[] = [];
  let start = '-';
  for (;;) {
    const page = await client.xrange(streamKey, start, '+', 'COUNT', HISTORY_PAGE);
    for (const [, fields] of page) {
      const event = decodeEvent(fields);
      if (event?.runId === runId) {
        events.push(event);
      }
    }
    const last = page.at(-1);
    if (last === undefined || page.length < HISTORY_PAGE) {
      return events;
    }
    start = `(${last[0]}`;
  }
}

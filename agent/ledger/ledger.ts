import type { Logger } from '../plugin-api/index.ts';
import { EMPTY_HEAD, sha256Hex } from './entry.ts';
import type { ChainHead, LedgerDraft, LedgerEntry, OutboundKind } from './entry.ts';

/** Where entries are chained and kept. Appends from many processes must chain atomically. */
export interface LedgerStore {
  /** Seals the draft after the current head and keeps it; returns the sealed entry. */
  append(draft: LedgerDraft): Promise<LedgerEntry>;
  /** The current head (the empty chain's head when nothing was recorded). */
  head(): Promise<ChainHead>;
}

/** One request that carried metadata out, as its sender describes it. */
export interface OutboundRequest {
  readonly kind: OutboundKind;
  readonly runId?: string;
  readonly method: string;
  readonly url: string;
  /** The exact bytes sent (the gzip body of a batch, the JSON text of a call). */
  readonly body: Buffer | string;
  /** The response status; undefined when no response came. */
  readonly status: number | undefined;
  readonly assets?: number;
  /** The secret references the run was given; never values. */
  readonly secretRefs?: readonly string[];
}

/** What senders call after each outbound request. */
export interface OutboundLedger {
  record(request: OutboundRequest): Promise<void>;
  /** The chain head, for `/status` and heartbeats. */
  head(): Promise<ChainHead>;
}

/**
 * The ledger senders use: describes each request (host, path, size, digest) and appends it.
 * A failed append is logged and rethrown, so the caller's own retry (a batch, a heartbeat)
 * covers it rather than a request going out unrecorded twice.
 */
export function createOutboundLedger(options: {
  /** The store, or a function giving the store in use (none yet: nothing is recorded). */
  readonly store: LedgerStore | (() => LedgerStore | undefined);
  readonly logger: Logger;
  readonly now?: () => number;
}): OutboundLedger {
  const now = options.now ?? Date.now;
  const { store } = options;
  const current = typeof store === 'function' ? store : () => store;
  return {
    async record(request) {
      const target = current();
      if (target === undefined) {
        return;
      }
      try {
        await target.append(draftOf(request, now()));
      } catch (error) {
        options.logger.error(
          { err: error, kind: request.kind, runId: request.runId },
          'Outbound request not recorded in the ledger',
        );
        throw error;
      }
    },
    head: () => current()?.head() ?? Promise.resolve(EMPTY_HEAD),
  };
}

/** The draft of a request: what the chain records about it. */
export function draftOf(request: OutboundRequest, timeMs: number): LedgerDraft {
  const url = new URL(request.url);
  return {
    time: new Date(timeMs).toISOString(),
    kind: request.kind,
    ...(request.runId === undefined ? {} : { runId: request.runId }),
    method: request.method,
    host: url.host,
    path: url.pathname,
    ...(request.status === undefined ? {} : { status: request.status }),
    bytes: typeof request.body === 'string' ? Buffer.byteLength(request.body) : request.body.length,
    sha256: sha256Hex(request.body),
    ...(request.assets === undefined ? {} : { assets: request.assets }),
    ...(request.secretRefs === undefined
      ? {}
      : { secretRefs: [...new Set(request.secretRefs)].sort() }),
  };
}

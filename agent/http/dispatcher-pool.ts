import { createHash } from 'node:crypto';
import type { Dispatcher } from 'undici';

/** Idle dispatchers kept for the next run; beyond this the least recently used are closed. */
export const MAX_IDLE_DISPATCHERS = 8;

/** One client's use of a shared dispatcher, given back once when the client closes. */
export interface DispatcherLease {
  readonly dispatcher: Dispatcher;
  release(): void;
}

interface Entry {
  readonly dispatcher: Dispatcher;
  users: number;
}

/**
 * Dispatchers (undici connection pools) shared by the short-lived HTTP clients of one thread's
 * runs, one per set of what a dispatcher is built from (timeouts, proxies, trusted CAs, client
 * certificate; see {@link dispatcherKey}). The next run of a source reuses the keep-alive
 * connections, and TLS sessions, that the run before it opened, instead of connecting anew:
 * for a small run, connecting was much of its thread's CPU.
 *
 * A connection carries nothing of the run that opened it: every request brings its own
 * credentials and is checked against its own run's destination policy before it is sent, and a
 * client that closes aborts whatever it still has in flight (createHttpClient). Idle sockets
 * close on undici's keep-alive timeout (the server's hint, 4 s when it gives none).
 *
 * Owned by the runtime (runs on the agent's thread) or by a run thread; createHttpClient leases
 * from it. close() is idempotent; a lease taken after it gets a dispatcher of its own, closed
 * on release.
 */
export class DispatcherPool {
  readonly #entries = new Map<string, Entry>();
  #closing: Promise<void> | undefined;

  /** The dispatcher for `key`, made by `create` when the pool has none. */
  lease(key: string, create: () => Dispatcher): DispatcherLease {
    if (this.#closing !== undefined) {
      const dispatcher = create();
      return { dispatcher, release: () => void dispatcher.close().catch(() => undefined) };
    }
    let entry = this.#entries.get(key);
    if (entry === undefined) {
      entry = { dispatcher: create(), users: 0 };
      this.#entries.set(key, entry);
    }
    entry.users += 1;
    let released = false;
    const leased = entry;
    return {
      dispatcher: leased.dispatcher,
      release: () => {
        if (released) {
          return;
        }
        released = true;
        leased.users -= 1;
        if (leased.users === 0) {
          this.#idle(key, leased);
        }
      },
    };
  }

  /** How many dispatchers the pool holds (tests). */
  get size(): number {
    return this.#entries.size;
  }

  /** Closes every dispatcher; the owner calls it once its clients are closed. */
  close(): Promise<void> {
    this.#closing ??= Promise.allSettled(
      [...this.#entries.values()].map((entry) => entry.dispatcher.close()),
    ).then(() => {
      this.#entries.clear();
    });
    return this.#closing;
  }

  /** Marks `entry` the most recently used, then closes the oldest idle ones past the limit. */
  #idle(key: string, entry: Entry): void {
    if (this.#closing !== undefined) {
      return;
    }
    this.#entries.delete(key);
    this.#entries.set(key, entry);
    let idle = [...this.#entries.values()].filter((e) => e.users === 0).length;
    for (const [oldKey, old] of this.#entries) {
      if (idle <= MAX_IDLE_DISPATCHERS) {
        break;
      }
      if (old.users === 0) {
        this.#entries.delete(oldKey);
        idle -= 1;
        void old.dispatcher.close().catch(() => undefined);
      }
    }
  }
}

/**
 * The pool's key for what a dispatcher is built from: a digest, so that a client key in it is
 * never held or compared as text.
 */
export function dispatcherKey(parts: readonly unknown[]): string {
  return createHash('sha256').update(JSON.stringify(parts)).digest('base64url');
}

import type { Logger } from '../plugin-api/index.ts';
import { isPerimeterError } from '../plugin-api/index.ts';
import type { EventOutbox, OutboxEntry } from '../run/contract.ts';
import { raceAbort } from '../plugin-api/index.ts';
import type { ControlPlaneApi } from './api.ts';
import type { LinkTracker } from './tracker.ts';

/** How long one outbox read waits for new events; the signal ends it sooner on stop. */
export const EVENT_READ_BLOCK_MS = 2000;

/** Statuses that mean the token, not the events, is the problem: kept and retried. */
const TOKEN_STATUSES = new Set([401, 403]);

/**
 * Forwards run events from the outbox to the control plane: each run's events in order, one
 * POST per run per read (the runs' POSTs concurrently), the outbox acknowledged only after a 2xx. A failed POST keeps the
 * batch; the next turn (after the loop's backoff) sends it again before reading anything new,
 * and the control plane drops what it has by runId + seq.
 */
export class EventForwarder {
  readonly #outbox: EventOutbox;
  readonly #api: ControlPlaneApi;
  readonly #tracker: LinkTracker;
  readonly #logger: Logger;
  readonly #batchMax: number;
  #pending: OutboxEntry[] = [];

  constructor(options: {
    readonly outbox: EventOutbox;
    readonly api: ControlPlaneApi;
    readonly tracker: LinkTracker;
    readonly logger: Logger;
    readonly batchMax: number;
  }) {
    this.#outbox = options.outbox;
    this.#api = options.api;
    this.#tracker = options.tracker;
    this.#logger = options.logger;
    this.#batchMax = options.batchMax;
  }

  /** One turn of the events loop: read (unless a batch is still pending), then deliver. */
  async turn(signal: AbortSignal): Promise<number> {
    if (this.#pending.length === 0) {
      this.#pending = await this.#outbox.read({
        signal,
        max: this.#batchMax,
        blockMs: EVENT_READ_BLOCK_MS,
      });
    }
    if (this.#pending.length === 0 || signal.aborted) {
      return 0;
    }
    // One POST per run, all runs' POSTs at once: a run's events stay in order within its POST,
    // and its later events come in a later read. What was delivered is acknowledged in one
    // call; a failed POST keeps its run's events pending for the next turn.
    const groups = Map.groupBy(this.#pending, (entry) => entry.event.runId);
    const outcomes = await Promise.allSettled(
      [...groups].map(async ([runId, group]) => {
        await this.#deliver(runId, group, signal);
        return runId;
      }),
    );
    const delivered = new Set<string>();
    let failure: Error | undefined;
    for (const outcome of outcomes) {
      if (outcome.status === 'fulfilled') {
        delivered.add(outcome.value);
      } else {
        failure ??=
          outcome.reason instanceof Error ? outcome.reason : new Error(String(outcome.reason));
      }
    }
    const done = this.#pending.filter((entry) => delivered.has(entry.event.runId));
    if (done.length > 0) {
      await raceAbort(this.#outbox.ack(done.map((entry) => entry.id)), signal);
      this.#pending = this.#pending.filter((entry) => !delivered.has(entry.event.runId));
    }
    if (failure !== undefined) {
      throw failure;
    }
    return 0;
  }

  async #deliver(runId: string, group: readonly OutboxEntry[], signal: AbortSignal): Promise<void> {
    const events = group.map((entry) => entry.event);
    try {
      await this.#api.postEvents(runId, events, signal);
      this.#tracker.succeeded('events');
    } catch (error) {
      const status = isPerimeterError(error, 'CONTROL_PLANE_REJECTED')
        ? error.context['status']
        : undefined;
      if (typeof status !== 'number' || TOKEN_STATUSES.has(status)) {
        throw error;
      }
      // Any other 4xx: the control plane will never take this body. Retrying it would block
      // every later event, so it is logged (ids and counts only) and dropped.
      this.#tracker.failed('events', error);
      this.#logger.error(
        { runId, events: events.length, firstSeq: events[0]?.seq, status },
        'Control plane refused run events; dropped',
      );
    }
  }
}

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
 * POST per run per read, the outbox acknowledged only after a 2xx. A failed POST keeps the
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
    while (this.#pending.length > 0 && !signal.aborted) {
      const runId = this.#pending[0]?.event.runId ?? '';
      const group = this.#pending.filter((entry) => entry.event.runId === runId);
      await this.#deliver(runId, group, signal);
      await raceAbort(this.#outbox.ack(group.map((entry) => entry.id)), signal);
      this.#pending = this.#pending.filter((entry) => entry.event.runId !== runId);
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

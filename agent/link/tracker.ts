import type { Metrics } from '../metrics/metrics.ts';
import { toPerimeterError } from '../plugin-api/index.ts';
import type { Logger, PerimeterError } from '../plugin-api/index.ts';
import type { LinkStatus } from './types.ts';

/** The link's calls, as the `call` label of `perimeter_link_errors_total`. */
export type LinkCall = 'poll' | 'ack' | 'heartbeat' | 'events';

/** How an instruction ended, as the `outcome` label of `perimeter_instructions_total`. */
export type InstructionOutcome = 'accepted' | 'refused' | 'duplicate' | 'deferred';

/**
 * The link's state for /readyz and /status, and the one place its failures are logged and
 * counted: every loop reports here, so the three loops log alike.
 */
export class LinkTracker {
  readonly #logger: Logger;
  readonly #metrics: Metrics | undefined;
  readonly #freshnessMs: number;
  readonly #now: () => number;
  #lastPollOkMs: number | undefined;
  #lastHeartbeatOkMs: number | undefined;
  #consecutiveErrors = 0;
  #lastErrorCode: string | undefined;
  #accepted = 0;
  #refused = 0;

  constructor(options: {
    readonly logger: Logger;
    readonly metrics: Metrics | undefined;
    readonly freshnessMs: number;
    readonly now: () => number;
  }) {
    this.#logger = options.logger;
    this.#metrics = options.metrics;
    this.#freshnessMs = options.freshnessMs;
    this.#now = options.now;
  }

  /** A call succeeded: the error streak ends; polls and heartbeats also refresh freshness. */
  succeeded(call: LinkCall): void {
    this.#consecutiveErrors = 0;
    if (call === 'poll') {
      this.#lastPollOkMs = this.#now();
    } else if (call === 'heartbeat') {
      this.#lastHeartbeatOkMs = this.#now();
    }
  }

  /**
   * Records and logs a failed call; given the loop's backoff (`waitAfter`), also returns and
   * logs how long the loop waits. 401/403 are logged at error: someone must fix the token.
   */
  failed(call: LinkCall, thrown: unknown, waitAfter?: (error: PerimeterError) => number): number {
    const error = toPerimeterError(thrown);
    const rejected = error.code === 'CONTROL_PLANE_REJECTED';
    const delayMs = waitAfter?.(error) ?? 0;
    this.#consecutiveErrors += 1;
    this.#lastErrorCode = error.code;
    this.#metrics?.linkErrorsTotal.inc({ call });
    const fields = {
      call,
      code: error.code,
      status: error.context['status'],
      consecutiveErrors: this.#consecutiveErrors,
      ...(waitAfter === undefined ? {} : { delayMs }),
      err: error,
    };
    if (rejected) {
      this.#logger.error(fields, 'Control plane refused the call');
    } else {
      this.#logger.warn(fields, 'Control-plane call failed');
    }
    return delayMs;
  }

  /** Counts an instruction's outcome. */
  instruction(type: string, outcome: InstructionOutcome): void {
    this.#metrics?.instructionsTotal.inc({ type, outcome });
    if (outcome === 'accepted' || outcome === 'duplicate') {
      this.#accepted += 1;
    } else if (outcome === 'refused') {
      this.#refused += 1;
    }
  }

  /** Observes the duration of a long-poll. */
  pollDuration(outcome: 'instructions' | 'empty' | 'error', seconds: number): void {
    this.#metrics?.linkPollDurationSeconds.observe({ outcome }, seconds);
  }

  status(): LinkStatus {
    const lastOkMs = Math.max(
      this.#lastPollOkMs ?? -Infinity,
      this.#lastHeartbeatOkMs ?? -Infinity,
    );
    return {
      fresh: this.#lastPollOkMs !== undefined && this.#now() - lastOkMs <= this.#freshnessMs,
      lastPollOkAt: isoOrUndefined(this.#lastPollOkMs),
      lastHeartbeatOkAt: isoOrUndefined(this.#lastHeartbeatOkMs),
      consecutiveErrors: this.#consecutiveErrors,
      lastErrorCode: this.#lastErrorCode,
      instructionsAccepted: this.#accepted,
      instructionsRefused: this.#refused,
    };
  }
}

function isoOrUndefined(ms: number | undefined): string | undefined {
  return ms === undefined ? undefined : new Date(ms).toISOString();
}

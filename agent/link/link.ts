import type { KeyObject } from 'node:crypto';
import type { ClosableHttpClient } from '../http/types.ts';
import type { Metrics } from '../metrics/metrics.ts';
import { PerimeterError, systemClock, waitAtMost } from '../plugin-api/index.ts';
import type { Clock, Logger } from '../plugin-api/index.ts';
import type { EventOutbox, InstructionTarget } from '../run/contract.ts';
import type { RunSpec } from '../run/types.ts';
import { raceAbort } from '../plugin-api/index.ts';
import type { AcceptDeps } from './accept.ts';
import { createControlPlaneApi } from './api.ts';
import type { ControlPlaneApi } from './api.ts';
import { EventForwarder } from './events.ts';
import { adoptReply } from './intervals.ts';
import type { Intervals } from './intervals.ts';
import type { InstructionLedger } from './ledger.ts';
import type { OutboundLedger } from '../ledger/ledger.ts';
import { runLoop } from './loop.ts';
import type { LoopOptions } from './loop.ts';
import { pollTurn } from './poller.ts';
import type { AcksInFlight } from './poller.ts';
import { freshnessMs, readPinnedKey } from './settings.ts';
import type { ControlPlaneSettings } from './settings.ts';
import { LinkTracker } from './tracker.ts';
import type { AgentTokenSource, HeartbeatBody, Link } from './types.ts';

/** What the link is built from. */
export interface LinkOptions {
  readonly settings: ControlPlaneSettings;
  readonly agentId: string;
  /**
   * Built by the caller with `errorDomain: 'controlPlane'` and
   * {@link controlPlaneDestinationPolicy}; closed by `stop()`.
   */
  readonly http: ClosableHttpClient;
  readonly token: AgentTokenSource;
  readonly target: InstructionTarget;
  readonly outbox: EventOutbox;
  readonly ledger: InstructionLedger;
  /** Records acks, heartbeats and events as they are sent. */
  readonly outboundLedger?: OutboundLedger;
  /** The runtime's check of a run (connector, settings, params, references, policy); throws. */
  prepare(spec: RunSpec): void;
  /** The body of the next heartbeat. */
  heartbeat(): Promise<HeartbeatBody>;
  readonly logger: Logger;
  readonly metrics?: Metrics;
  /** The pinned key; read from the settings (publicKey or publicKeyFile) when not given. */
  readonly publicKey?: KeyObject;
  readonly now?: () => number;
  /** Source of the backoff jitter, for tests. */
  readonly random?: () => number;
  /** Times the waits between turns and the stop bound, for tests. */
  readonly clock?: Clock;
}

/** Longest time `stop()` waits for the loops to end before it returns anyway. */
const STOP_BOUND_MS = 5000;

export { controlPlaneDestinationPolicy } from './settings.ts';

/**
 * Creates the control-plane link: three independent loops (long-poll and acks, heartbeats,
 * event delivery), each with its own jittered backoff, so a stuck one never holds the others.
 * Reads the pinned public key at once: a bad one throws CONFIG_INVALID here, before any poll.
 */
export function createLink(options: LinkOptions): Link {
  const parts = assemble(options);
  const { logger, tracker } = parts;
  const controller = new AbortController();
  let loops: Promise<void>[] | undefined;
  let stopping: Promise<void> | undefined;
  return {
    start: () => {
      if (loops !== undefined || controller.signal.aborted) {
        return;
      }
      logger.info(
        {
          signed: parts.accept.publicKey !== undefined,
          pollWaitSeconds: parts.intervals.pollWaitSeconds,
        },
        'Control-plane link started',
      );
      loops = startLoops(options, parts, controller.signal);
    },
    stop: () => {
      stopping ??= stopWithin(controller, loops ?? [], options, logger);
      return stopping;
    },
    status: () => tracker.status(),
  };
}

/** The pieces the loops share. */
interface LinkParts {
  readonly logger: Logger;
  readonly tracker: LinkTracker;
  readonly api: ControlPlaneApi;
  readonly intervals: Intervals;
  readonly accept: AcceptDeps;
}

function assemble(options: LinkOptions): LinkParts {
  const { settings } = options;
  const now = options.now ?? Date.now;
  const logger = options.logger.child({ component: 'link' });
  return {
    logger,
    tracker: new LinkTracker({
      logger,
      metrics: options.metrics,
      freshnessMs: freshnessMs(settings),
      now,
    }),
    api: createControlPlaneApi({
      http: options.http,
      baseUrl: settings.url,
      agentId: options.agentId,
      token: options.token,
      ...(options.outboundLedger === undefined ? {} : { ledger: options.outboundLedger }),
    }),
    intervals: {
      pollWaitSeconds: settings.pollWaitSeconds,
      heartbeatIntervalMs: Math.round(settings.heartbeatIntervalSeconds * 1000),
    },
    accept: {
      publicKey: options.publicKey ?? readPinnedKey(settings),
      maxClockSkewMs: settings.maxClockSkewSeconds * 1000,
      prepare: (spec: RunSpec): void => {
        options.prepare(spec);
      },
      ledger: options.ledger,
      target: options.target,
      now,
    },
  };
}

/** Starts the three loops: long-poll and acks, heartbeats, event delivery. */
function startLoops(options: LinkOptions, parts: LinkParts, signal: AbortSignal): Promise<void>[] {
  const { api, accept, tracker, logger, intervals } = parts;
  const forwarder = new EventForwarder({
    outbox: options.outbox,
    api,
    tracker,
    logger,
    batchMax: options.settings.eventBatchMax,
  });
  const { random = Math.random, clock } = options;
  const backoff = options.settings.backoff;
  const loop = (call: LoopOptions['call'], turn: () => Promise<number>): Promise<void> =>
    runLoop({ call, signal, backoff, random, clock, tracker, turn });
  const acks: AcksInFlight = { previous: Promise.resolve() };
  return [
    loop('poll', () => pollTurn({ api, accept, tracker, logger, intervals, signal, acks })),
    loop('heartbeat', async () => {
      const body = await raceAbort(options.heartbeat(), signal);
      const reply = await api.heartbeat(body, signal);
      tracker.succeeded('heartbeat');
      adoptReply(reply, intervals, logger);
      return intervals.heartbeatIntervalMs;
    }),
    loop('events', () => forwarder.turn(signal)),
  ];
}

async function stopWithin(
  controller: AbortController,
  loops: readonly Promise<void>[],
  options: Pick<LinkOptions, 'http' | 'clock'>,
  logger: Logger,
): Promise<void> {
  controller.abort(new PerimeterError('RUN_ABORTED', 'The control-plane link is stopping.'));
  const ended = await waitAtMost(Promise.allSettled(loops), STOP_BOUND_MS, {
    clock: options.clock ?? systemClock,
  });
  if (ended.timedOut) {
    logger.warn({ boundMs: STOP_BOUND_MS }, 'Control-plane link loops did not end in time');
  }
  await options.http.close();
  logger.info({}, 'Control-plane link stopped');
}

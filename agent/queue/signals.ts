import { PerimeterError, systemClock } from '../plugin-api/index.ts';
import type { Clock } from '../plugin-api/index.ts';

/** The sources that may stop a run, each turned into the error the run reports. */
export interface RunSignalSources {
  /** BullMQ's signal of the job: aborted by `worker.cancelJob` (a cancel instruction). */
  readonly cancel: AbortSignal | undefined;
  /** The process's drain: the run stops at a checkpoint and is requeued. */
  readonly shutdown: AbortSignal;
  readonly timeoutMs: number;
  /** Times the run timeout. */
  readonly clock?: Clock;
}

/** A run's signal and a way to stop listening once the run is over. */
export interface RunSignal {
  readonly signal: AbortSignal;
  dispose(): void;
}

/**
 * Combines the run's stop sources into one signal whose reason is a PerimeterError:
 * RUN_CANCELLED, RUN_ABORTED (shutdown) or RUN_TIMEOUT. AbortSignal.any would keep each
 * source's own reason (BullMQ's is a plain string), so this maps them as they fire.
 */
export function runSignal(sources: RunSignalSources): RunSignal {
  const controller = new AbortController();
  const timeout = new AbortController();
  const cancelTimeout = (sources.clock ?? systemClock).schedule(() => {
    timeout.abort();
  }, sources.timeoutMs);
  const reasons: [AbortSignal | undefined, () => PerimeterError][] = [
    [sources.cancel, () => cancelReason(sources.cancel)],
    [sources.shutdown, () => shutdownReason(sources.shutdown)],
    [
      timeout.signal,
      () =>
        new PerimeterError(
          'RUN_TIMEOUT',
          `The run exceeded queue.runTimeoutMs (${sources.timeoutMs} ms)`,
          { context: { timeoutMs: sources.timeoutMs } },
        ),
    ],
  ];
  const detachers: (() => void)[] = [cancelTimeout];
  for (const [signal, reason] of reasons) {
    if (signal === undefined) {
      continue;
    }
    if (signal.aborted) {
      controller.abort(reason());
      break;
    }
    const listener = (): void => {
      controller.abort(reason());
    };
    signal.addEventListener('abort', listener, { once: true });
    detachers.push(() => {
      signal.removeEventListener('abort', listener);
    });
  }
  return {
    signal: controller.signal,
    dispose: () => {
      detachers.forEach((detach) => {
        detach();
      });
    },
  };
}

/**
 * The reason the worker gives BullMQ's job signal when the run's lock could not be renewed: the
 * lock may have expired (Redis paused or unreachable longer than `queue.lockDurationMs`) and the
 * run been handed to another attempt, so this one stops at a checkpoint.
 */
export const LOCK_LOST = 'lock-lost';

function cancelReason(signal: AbortSignal | undefined): PerimeterError {
  return signal?.reason === LOCK_LOST
    ? new PerimeterError(
        'RUN_ABORTED',
        'The run lost its queue lock; it stops at a checkpoint and is requeued',
        { context: { reason: LOCK_LOST } },
      )
    : new PerimeterError('RUN_CANCELLED', 'A cancel instruction stopped the run');
}

function shutdownReason(signal: AbortSignal): PerimeterError {
  const reason: unknown = signal.reason;
  return reason instanceof PerimeterError && reason.code === 'RUN_ABORTED'
    ? reason
    : new PerimeterError(
        'RUN_ABORTED',
        'The agent is shutting down; the run stops at a checkpoint and is requeued',
        { cause: reason },
      );
}

import type { Metrics } from '../metrics/metrics.ts';
import { PerimeterError } from '../plugin-api/index.ts';
import type { Logger } from '../plugin-api/index.ts';
import type { BatchingSettings } from './settings.ts';
import { BatchingSinkRun } from './sink-run.ts';
import type { BatchTransport, Sink, SinkOpenOptions, SinkRun } from './types.ts';

/** What a concrete sink plugs into the shared run bookkeeping. */
export interface SinkRegistryOptions<P> {
  readonly batching: BatchingSettings;
  /** Logger bound to `component: sink`. */
  readonly logger: Logger;
  readonly metrics: Metrics | undefined;
  readonly abortWaitMs: number;
  /** The transport of one run. May throw (e.g. a run id the transport cannot use). */
  transportFor(run: SinkOpenOptions): BatchTransport<P>;
  /** Releases what the transports share (a connection pool); called once, after the runs. */
  closeTransport(): Promise<void>;
}

/**
 * The {@link Sink} shell shared by the catalog and directory sinks: opens runs on the batching
 * core, keeps the open ones, and on `close()` aborts them before releasing the transport.
 */
export function createSinkRegistry<P>(options: SinkRegistryOptions<P>): Sink {
  const open = new Set<SinkRun>();
  let closing: Promise<void> | undefined;

  return {
    open(runOptions: SinkOpenOptions): SinkRun {
      if (closing !== undefined) {
        throw new PerimeterError(
          'RUN_ABORTED',
          'The sink is closing; the run resumes on the next attempt',
          {
            context: { runId: runOptions.runId },
          },
        );
      }
      const run: SinkRun = new BatchingSinkRun(runOptions, {
        transport: options.transportFor(runOptions),
        batching: options.batching,
        logger: options.logger.child({ runId: runOptions.runId }),
        metrics: options.metrics,
        abortWaitMs: options.abortWaitMs,
        onSettled: () => open.delete(run),
      });
      open.add(run);
      return run;
    },

    close(): Promise<void> {
      closing ??= (async () => {
        await Promise.all([...open].map((run) => run.abort()));
        await options.closeTransport();
      })();
      return closing;
    },
  };
}

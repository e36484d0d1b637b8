import type { Connector, ConnectorContext } from '../plugin-api/index.ts';
import type { Sink, SinkSummary } from '../sink/types.ts';
import { iterateUntilAborted } from './abort.ts';
import type { RunCheckpoint, RunProgress } from './types.ts';

/**
 * Progress is offered after every checkpoint and every so many assets: it only moves when a
 * batch is acknowledged, and reading it per asset costs more than the asset's own handling.
 */
const PROGRESS_EVERY_EVENTS = 256;

/** What one extract attempt needs besides the connector and its context. */
export interface ExtractOptions {
  readonly sink: Sink;
  readonly resume: RunCheckpoint | undefined;
  readonly onCommit: (checkpoint: RunCheckpoint) => Promise<void>;
  readonly onProgress: (progress: RunProgress) => void;
  /** The run's credential references, recorded by the outbound ledger with each push. */
  readonly secretRefs?: readonly string[];
}

/**
 * Pulls the connector's stream into the sink. Backpressure is the `await` on `write`: the
 * connector sits at its `yield` while the catalog is busy. A checkpoint is handed to the sink,
 * which commits it once every earlier batch is acknowledged. Only a stream that ended normally,
 * with the signal still quiet, is completed; anything else aborts the sink run, so an aborted
 * run never claims to be complete.
 */
export async function extract<C, P>(
  connector: Connector,
  ctx: ConnectorContext<C, P>,
  options: ExtractOptions,
): Promise<SinkSummary> {
  const run = options.sink.open({
    runId: ctx.runId,
    connector: connector.name,
    resume: options.resume,
    signal: ctx.signal,
    onCommit: options.onCommit,
    ...(options.secretRefs === undefined ? {} : { secretRefs: options.secretRefs }),
  });
  try {
    let sinceProgress = 0;
    for await (const event of iterateUntilAborted(connector.read(ctx), ctx.signal)) {
      if (event.type === 'asset') {
        await run.write(event.asset);
        sinceProgress += 1;
      } else {
        await run.checkpoint(event.cursor);
        sinceProgress = PROGRESS_EVERY_EVENTS;
      }
      if (sinceProgress >= PROGRESS_EVERY_EVENTS) {
        sinceProgress = 0;
        options.onProgress(run.progress);
      }
    }
    ctx.signal.throwIfAborted();
    return await run.complete();
  } catch (error) {
    await run.abort();
    throw error;
  }
}

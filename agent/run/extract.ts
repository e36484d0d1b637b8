import type { Connector, ConnectorContext, ConnectorEvent } from '../plugin-api/index.ts';
import { EncodedAssets } from '../sink/ndjson.ts';
import type { RunCounts, Sink, SinkSummary } from '../sink/types.ts';
import { iterateUntilAborted } from './abort.ts';
import { RunTally } from './tally.ts';
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

/** What an extract attempt ends with: the sink's totals and the run's honest counts. */
export type ExtractSummary = SinkSummary & RunCounts;

/**
 * Pulls the connector's stream into the sink. Backpressure is the `await` on `write`: the
 * connector sits at its `yield` while the catalog is busy. Every event is counted by the run's
 * {@link RunTally} (restored from the resumed checkpoint), whose snapshot travels with each
 * checkpoint. A checkpoint is handed to the sink, which commits it once every earlier batch is
 * acknowledged. Only a stream that ended normally, with the signal still quiet, is completed,
 * with the counts; anything else aborts the sink run, so an aborted run never claims to be
 * complete. A connector hosted in a run thread (agent/daemon/run-thread/) yields its assets as
 * {@link EncodedAssets}, already checked and encoded there, which go to the sink as they are.
 */
export async function extract<C, P>(
  connector: Connector,
  ctx: ConnectorContext<C, P>,
  options: ExtractOptions,
): Promise<ExtractSummary> {
  const tally = new RunTally(options.resume?.tally);
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
    const events = connector.read(ctx) as AsyncIterable<ConnectorEvent | EncodedAssets>;
    for await (const event of iterateUntilAborted(events, ctx.signal)) {
      if (event instanceof EncodedAssets) {
        tally.countEncoded(event);
        await run.writeEncoded(event);
        sinceProgress += event.count;
      } else {
        tally.count(event);
        if (event.type === 'asset') {
          await run.write(event.asset);
          sinceProgress += 1;
        } else if (event.type === 'checkpoint') {
          await run.checkpoint(event.cursor, tally.snapshot());
          sinceProgress = PROGRESS_EVERY_EVENTS;
        }
      }
      if (sinceProgress >= PROGRESS_EVERY_EVENTS) {
        sinceProgress = 0;
        options.onProgress(run.progress);
      }
    }
    ctx.signal.throwIfAborted();
    const counts = tally.result();
    return { ...(await run.complete(counts)), ...counts };
  } catch (error) {
    await run.abort();
    throw error;
  }
}

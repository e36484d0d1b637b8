import { describe, expect, it } from 'vitest';
import { ManualTransport } from '../../test/fakes/catalog/manual-transport.ts';
import { encodedAssets, syntheticAsset } from '../../test/fakes/catalog/assets.ts';
import { captureLogs } from '../../test/helpers/capture-logs.ts';
import { hogConnector } from '../../test/fakes/fixture/hog-connector.ts';
import type { Connector, ConnectorContext, ConnectorEvent } from '../plugin-api/index.ts';
import { createSinkRegistry } from '../sink/registry.ts';
import { BatchingSettingsSchema } from '../sink/settings.ts';
import { extract } from './extract.ts';

/** A connector whose read yields `events` as they are (what a run thread's host yields). */
function yielding(events: readonly unknown[]): Connector {
  return {
    ...hogConnector,
    // eslint-disable-next-line @typescript-eslint/require-await
    read: async function* () {
      yield* events as ConnectorEvent[];
    },
  };
}

async function extractAll(connector: Connector): Promise<{
  transport: ManualTransport;
  summary: Awaited<ReturnType<typeof extract>>;
  commits: unknown[];
}> {
  const transport = new ManualTransport({ autoAck: true });
  const sink = createSinkRegistry({
    batching: BatchingSettingsSchema.parse({ batchMaxAssets: 4, checkpointMinAssets: 2 }),
    logger: captureLogs().logger,
    metrics: undefined,
    abortWaitMs: 1000,
    transportFor: () => transport,
    closeTransport: () => Promise.resolve(),
  });
  const commits: unknown[] = [];
  const ctx = {
    runId: 'run-extract',
    signal: new AbortController().signal,
  } as ConnectorContext<unknown, unknown>;
  const summary = await extract(connector, ctx, {
    sink,
    resume: undefined,
    onCommit: (checkpoint) => {
      commits.push(checkpoint);
      return Promise.resolve();
    },
    onProgress: () => undefined,
  });
  await sink.close();
  return { transport, summary, commits };
}

describe('extract', () => {
  it('pushes and counts assets a run thread encoded exactly as the same assets yielded one by one', async () => {
    const assets = Array.from({ length: 7 }, (_, index) => syntheticAsset(index));
    const column = { typeName: 'CyeraColumn', qualifiedName: 'c/1', name: '1', attributes: {} };
    const checkpoint = { type: 'checkpoint', cursor: { after: 5 } };
    const oneByOne = await extractAll(
      yielding([
        ...assets.slice(0, 5).map((asset) => ({ type: 'asset', asset })),
        checkpoint,
        ...[...assets.slice(5), column].map((asset) => ({ type: 'asset', asset })),
      ]),
    );
    const inBlocks = await extractAll(
      yielding([
        encodedAssets(assets.slice(0, 5)),
        checkpoint,
        encodedAssets([...assets.slice(5), column]),
      ]),
    );
    expect(inBlocks.summary).toEqual(oneByOne.summary);
    expect(inBlocks.summary.kinds).toEqual({
      CyeraColumn: { extracted: 1, skipped: 0 },
      CyeraTable: { extracted: 7, skipped: 0 },
    });
    expect(inBlocks.commits).toEqual(oneByOne.commits);
    expect(inBlocks.transport.sent.map((batch) => batch.lines)).toEqual(
      oneByOne.transport.sent.map((batch) => batch.lines),
    );
  });
});

import { gunzipSync } from 'node:zlib';
import { expect } from 'vitest';
import type { Connector, ConnectorContext } from '../../../agent/plugin-api/index.ts';
import { extract } from '../../../agent/run/extract.ts';
import type { ExtractSummary } from '../../../agent/run/extract.ts';
import type { RunCheckpoint, Sink } from '../../../agent/sink/types.ts';
import type { CatalogReceiver, RecordedRequest } from '../../fakes/catalog-receiver.ts';

// What the connectors' delivery tests share: one attempt of a run driven from a connector's
// `read()` into the catalog sink by the run's own extract loop, and what the catalog then holds.

/** How one attempt ended: the checkpoints it committed, and its summary or its error. */
export interface Attempt {
  readonly commits: readonly RunCheckpoint[];
  readonly summary?: ExtractSummary;
  readonly error?: unknown;
}

/**
 * One attempt of run `ctx.runId` (or `runId`), as the run executor makes it: `agent/run/extract.ts`
 * pulls the connector's stream into a sink run, counting it and committing each checkpoint once
 * its batches are acknowledged; `resume` is the last commit of an earlier attempt.
 */
export async function pushExtract<C, P>(
  sink: Sink,
  connector: Connector,
  ctx: ConnectorContext<C, P>,
  options: { readonly resume?: RunCheckpoint; readonly runId?: string } = {},
): Promise<Attempt> {
  const commits: RunCheckpoint[] = [];
  try {
    const summary = await extract(
      connector,
      { ...ctx, runId: options.runId ?? ctx.runId },
      {
        sink,
        resume: options.resume,
        onCommit: (checkpoint) => {
          commits.push(checkpoint);
          return Promise.resolve();
        },
        onProgress: () => undefined,
      },
    );
    return { commits, summary };
  } catch (error) {
    return { commits, error };
  }
}

/** Every qualifiedName the catalog stored was stored once, `total` of them, none conflicting. */
export function expectEachAssetOnce(receiver: CatalogReceiver, total: number): void {
  const counts = [...receiver.assetCounts().values()];
  expect(counts).toHaveLength(total);
  expect(counts.filter((times) => times !== 1)).toEqual([]);
  expect(receiver.conflicts).toEqual([]);
}

/**
 * Everything the receiver was sent, batch bodies unzipped: the text a secret must not appear in.
 * (The receiver records a dropped batch either empty or whole.)
 */
export function pushedText(receiver: CatalogReceiver): string {
  return receiver.requests.map(bodyText).join('\n');
}

/**
 * Every asset the receiver was sent, by qualifiedName, as its NDJSON line. A name sent again
 * (a retried or replayed batch) must come with the same line: one that differs fails the test.
 */
export function sentAssets(receiver: CatalogReceiver): Map<string, string> {
  const lines = new Map<string, string>();
  const changed: string[] = [];
  const batches = receiver.requests.filter((request) => request.path.endsWith('/batches'));
  for (const line of batches.flatMap((request) => bodyText(request).split('\n'))) {
    if (line === '') continue;
    const { qualifiedName } = JSON.parse(line) as { qualifiedName: string };
    const earlier = lines.get(qualifiedName);
    if (earlier !== undefined && earlier !== line) changed.push(qualifiedName);
    lines.set(qualifiedName, line);
  }
  expect(changed).toEqual([]);
  return lines;
}

function bodyText({ headers, body }: RecordedRequest): string {
  return headers['content-encoding'] === 'gzip' && body.length > 0
    ? gunzipSync(body).toString('utf8')
    : body.toString('utf8');
}

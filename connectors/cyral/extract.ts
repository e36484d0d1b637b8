import { z } from 'zod';
import { flattenChunks, streamAtMost } from '../../agent/plugin-api/index.ts';
import type { Clock, ConnectorEvent, JsonValue, Logger } from '../../agent/plugin-api/index.ts';
import { CyralClient } from './client.ts';
import { policyAssets, tenantAssets } from './governance.ts';
import { CYRAL_TYPES } from './names.ts';
import { READS } from './reads.ts';
import { repositoryAssets } from './repositories.ts';
import type { RepoEntry } from './records.ts';
import type { CyralContext, EventChunk, RunScope } from './scope.ts';
import { selectById } from './selection.ts';
import { sidecarAssets } from './sidecars.ts';
import { SkipTally } from './skipped.ts';

/** The stages of an extract, in order; a cursor names the next one. */
const STAGE = { tenant: 0, policies: 1, sidecars: 2, repositories: 3 } as const;

/** Where a resumed run starts: a stage, and in the per-object stages the last id finished. */
const CursorSchema = z.strictObject({
  stage: z.int().min(0).max(3),
  after: z.string().min(1).max(256).optional(),
});
type Cursor = z.infer<typeof CursorSchema>;

/** Test seams of an extract. */
export interface ExtractOptions {
  /** Shared with a simulator to pass token lifetimes without waiting. */
  readonly clock?: Clock;
}

/**
 * Extracts a control plane in four stages: the control plane with labels, roles and
 * integrations; policies; each sidecar; each repository (sidecars and repositories in id
 * order). A checkpoint follows each stage and each sidecar and repository. The run ends with a
 * summary line counting what was skipped per kind.
 */
export function extract(
  ctx: CyralContext,
  options: ExtractOptions = {},
): AsyncIterableIterator<ConnectorEvent> {
  return flattenChunks(extractChunks(ctx, options));
}

async function* extractChunks(
  ctx: CyralContext,
  options: ExtractOptions,
): AsyncGenerator<EventChunk> {
  const client = new CyralClient({ ...ctx, clock: options.clock });
  try {
    yield* extractWith(client, ctx, options.clock);
  } finally {
    await client.close();
  }
}

async function* extractWith(
  client: CyralClient,
  ctx: CyralContext,
  clock: Clock | undefined,
): AsyncGenerator<EventChunk> {
  const startedMs = Date.now();
  const cursor = parseCursor(ctx.cursor, ctx.logger);
  const skipped = new SkipTally(ctx.logger);
  const [repoList, sidecarList, labelList] = await Promise.all([
    client.read(READS.repos.at()),
    client.read(READS.sidecars.at()),
    client.read(READS.dataLabels.at()),
  ]);
  const repos = selectById(repoList.repos, ctx.params.repositoryIds, 'repository', skipped);
  const sidecars = selectById(sidecarList, ctx.params.sidecarIds, 'sidecar', skipped);
  const scope: RunScope = {
    client,
    ctx,
    tenant: ctx.config.tenant,
    skipped,
    clock,
    labels: new Set(labelList.labels.map((label) => label.name)),
    repoIds: new Set(repos.map((repo) => repo.id)),
    sidecarIds: new Set(sidecars.map((sidecar) => sidecar.id)),
  };
  ctx.logger.info(
    { repositories: repos.length, sidecars: sidecars.length, stage: cursor.stage },
    'Extracting Cyral control plane',
  );
  // Selection skips were counted by the attempt that started the run; a resumed one drops them.
  const selectionSkips = skipped.drain();
  if (cursor.stage <= STAGE.tenant) {
    yield [...selectionSkips];
    yield* singly(tenantAssets(scope, labelList.labels));
    yield [...checkpoint(skipped, { stage: STAGE.policies })];
  }
  if (cursor.stage <= STAGE.policies) {
    yield* singly(policyAssets(scope));
    yield [...checkpoint(skipped, { stage: STAGE.sidecars })];
  }
  for (const sidecar of pending(sidecars, cursor, STAGE.sidecars)) {
    yield* singly(sidecarAssets(scope, sidecar));
    yield [...checkpoint(skipped, { stage: STAGE.sidecars, after: sidecar.id })];
  }
  for (const repo of pending(repos, cursor, STAGE.repositories)) {
    yield* repositoryWithin(scope, repo);
    yield [...checkpoint(skipped, { stage: STAGE.repositories, after: repo.id })];
  }
  yield [...skipped.drain()];
  ctx.logger.info(
    { skipped: skipped.counts(), skippedTotal: skipped.total, durationMs: Date.now() - startedMs },
    'Extracted Cyral control plane',
  );
}

/** The events of a stage that makes few (tenant, policies, sidecars), one chunk each. */
async function* singly(events: AsyncIterable<ConnectorEvent>): AsyncGenerator<EventChunk> {
  for await (const event of events) {
    yield [event];
  }
}

/** The objects of a per-object stage still to do: none before it, those after `after` in it. */
function pending<T extends { readonly id: string }>(
  items: readonly T[],
  cursor: Cursor,
  stage: number,
): T[] {
  if (cursor.stage > stage) return [];
  if (cursor.stage < stage || cursor.after === undefined) return [...items];
  const after = cursor.after;
  return items.filter((item) => item.id > after);
}

/** The skips recorded so far, then a checkpoint that covers them too. */
function* checkpoint(skipped: SkipTally, cursor: Cursor): Generator<ConnectorEvent> {
  yield* skipped.drain();
  yield { type: 'checkpoint', cursor: cursor as JsonValue };
}

/**
 * One repository within `repositoryTimeoutMs` of the source's time: its reads run under a signal
 * of their own and are all made before its first asset, so a repository too slow to be read
 * yields nothing but one `skipped` event (reason `timeout`) and the run goes on with the next.
 * Its assets then stream through in chunks (memory stays that of the data map being read).
 */
async function* repositoryWithin(scope: RunScope, repo: RepoEntry): AsyncGenerator<EventChunk> {
  const { ctx } = scope;
  const ownSkips = new SkipTally(ctx.logger);
  const timeoutMs = ctx.config.repositoryTimeoutMs;
  const outcome = yield* streamAtMost(
    (signal) =>
      repositoryAssets(
        { ...scope, client: scope.client.forObject(signal), skipped: ownSkips },
        repo,
      ),
    timeoutMs,
    { signal: ctx.signal, clock: scope.clock },
  );
  if (outcome.timedOut) {
    const message = `took longer than repositoryTimeoutMs (${String(timeoutMs)} ms)`;
    scope.skipped.skip(
      CYRAL_TYPES.repository,
      'timeout',
      { endpoint: 'repository', repoId: repo.id },
      message,
    );
    return;
  }
  scope.skipped.adopt(ownSkips);
}

/** The cursor of a resumed run; one this version cannot read starts the run over, with a warning. */
function parseCursor(value: JsonValue | undefined, logger: Logger): Cursor {
  if (value === undefined) return { stage: STAGE.tenant };
  const parsed = CursorSchema.safeParse(value);
  if (parsed.success) return parsed.data;
  logger.warn({}, 'Cyral checkpoint not understood; extracting from the start');
  return { stage: STAGE.tenant };
}

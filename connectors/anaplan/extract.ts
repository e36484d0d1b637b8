import { streamAtMost } from '../../agent/plugin-api/index.ts';
import type { ConnectorContext, ConnectorEvent, Logger } from '../../agent/plugin-api/index.ts';
import { AnaplanClient } from './client.ts';
import type { Readable } from './client.ts';
import type { AnaplanConfig, AnaplanParams } from './config.ts';
import { cursorJson, parseCursor } from './cursor.ts';
import type { AnaplanCursor } from './cursor.ts';
import {
  ANAPLAN_TYPES,
  SYSTEM_DIMENSIONS,
  dimensionToAsset,
  lineItemToAsset,
  listToAsset,
  modelToAsset,
  moduleToAsset,
  versionToAsset,
  viewToAsset,
  workspaceToAsset,
} from './map.ts';
import type { ModelScope } from './map.ts';
import type { Model, NamedObject, Workspace } from './records.ts';
import { SkipLedger } from './skips.ts';
import type { SkipKind } from './skips.ts';

/** The context of an Anaplan operation. */
export type AnaplanContext = ConnectorContext<AnaplanConfig, AnaplanParams>;

/** The selected workspaces, each with its selected models. */
export interface Selection {
  readonly workspace: Workspace;
  readonly models: readonly Model[];
}

/** Models in a state that is not opened (its contents are not loaded in memory). */
const UNOPENED_STATES = new Set(['ARCHIVED']);

/**
 * Streams the selected workspaces and models: a checkpoint after each workspace asset and after
 * each model, so a resumed run starts at the first model not finished. The token is logged out
 * when the read ends, also when it fails or is aborted.
 */
export async function* extract(ctx: AnaplanContext): AsyncGenerator<ConnectorEvent> {
  const client = new AnaplanClient(ctx);
  try {
    const skips = new SkipLedger(ctx.logger);
    yield* extractWith(client, ctx, skips);
    skips.report();
  } finally {
    await client.close();
  }
}

async function* extractWith(
  client: AnaplanClient,
  ctx: AnaplanContext,
  skips: SkipLedger,
): AsyncGenerator<ConnectorEvent> {
  const { tenant } = ctx.config;
  const done = parseCursor(ctx.cursor, ctx.logger);
  for (const { workspace, models } of await select(client, ctx.params, ctx.logger)) {
    if (!done.workspaceIds.has(workspace.id)) {
      yield { type: 'asset', asset: workspaceToAsset(tenant, workspace) };
      // Anaplan's count of the workspace's models in the selection: each ends as an asset or a
      // skip, so the run's model counts reconcile. Once per workspace, before its checkpoint.
      yield { type: 'reported', kind: ANAPLAN_TYPES.model, total: models.length };
      done.workspaceIds.add(workspace.id);
      yield checkpoint(done);
    }
    for (const model of models) {
      if (done.modelIds.has(model.id)) {
        continue;
      }
      yield* modelWithin(client, ctx, model, skips);
      yield* skips.drain();
      done.modelIds.add(model.id);
      yield checkpoint(done);
    }
  }
}

function checkpoint(done: AnaplanCursor): ConnectorEvent {
  return { type: 'checkpoint', cursor: cursorJson(done) };
}

/** The workspaces and models the params select, in Anaplan's order; unknown ids are logged. */
export async function select(
  client: AnaplanClient,
  params: AnaplanParams,
  logger: Logger,
): Promise<Selection[]> {
  const wanted = (ids: readonly string[], id: string): boolean =>
    ids.length === 0 || ids.includes(id);
  const unseenWorkspaces = new Set(params.workspaceIds);
  const unseenModels = new Set(params.modelIds);
  const byWorkspace = new Map<string, Model[]>();
  for await (const model of client.models()) {
    unseenModels.delete(model.id);
    if (wanted(params.modelIds, model.id)) {
      const models = byWorkspace.get(model.currentWorkspaceId) ?? [];
      models.push(model);
      byWorkspace.set(model.currentWorkspaceId, models);
    }
  }
  const selection: Selection[] = [];
  for await (const workspace of client.workspaces()) {
    unseenWorkspaces.delete(workspace.id);
    const models = byWorkspace.get(workspace.id) ?? [];
    // With models selected, only their workspaces are extracted.
    if (
      wanted(params.workspaceIds, workspace.id) &&
      (params.modelIds.length === 0 || models.length > 0)
    ) {
      selection.push({ workspace, models });
    }
  }
  if (unseenWorkspaces.size > 0 || unseenModels.size > 0) {
    logger.warn(
      { workspaceIds: [...unseenWorkspaces], modelIds: [...unseenModels] },
      'Selected Anaplan workspaces or models are not visible to this user',
    );
  }
  return selection;
}

/**
 * One model within `modelTimeoutMs` of the source's time: its reads run under a signal of their
 * own and its parts stream through as they are read, so memory stays flat however large the
 * model. The model's own asset comes last: a model too slow to finish has no asset, one
 * `skipped` event (reason `timeout`) names it, and the parts read before the time ran out stay
 * sent (counted, like every part, not reconciled). The run goes on with the next model.
 */
async function* modelWithin(
  client: AnaplanClient,
  ctx: AnaplanContext,
  model: Model,
  skips: SkipLedger,
): AsyncGenerator<ConnectorEvent> {
  const timeoutMs = ctx.config.modelTimeoutMs;
  const outcome = yield* streamAtMost(
    (signal) => extractModel(client.forObject(signal), ctx.config.tenant, model, skips),
    timeoutMs,
    { signal: ctx.signal },
  );
  if (outcome.timedOut) {
    skips.timedOut({ workspaceId: model.currentWorkspaceId, modelId: model.id }, timeoutMs);
  }
}

/**
 * One model: an archived one is reported with its state and not opened; one the user cannot
 * open (404) is skipped (no asset: a `skipped` event names it). Otherwise its lists, system
 * dimensions, versions, modules, views and line items, each readable part as far as the user's
 * role allows (versions and the calendar need Workspace Administrator), then the model itself.
 */
async function* extractModel(
  client: AnaplanClient,
  tenant: string,
  model: Model,
  skips: SkipLedger,
): AsyncGenerator<ConnectorEvent> {
  const path = { workspaceId: model.currentWorkspaceId, modelId: model.id };
  if (UNOPENED_STATES.has(model.activeState ?? '')) {
    yield { type: 'asset', asset: modelToAsset(tenant, model, false) };
    return;
  }
  const lists = await client.lists(path);
  if (!lists.readable) {
    skips.record('model', path, lists.status);
    return;
  }
  const listObjects = await collect(lists.value);
  const scope: ModelScope = { tenant, ...path, listIds: new Set(listObjects.map((l) => l.id)) };
  yield* listAssets(client, scope, listObjects, skips);
  const calendar = await client.calendar(path);
  const readableCalendar = readableOrSkip(calendar, 'modelCalendar', path, skips);
  yield { type: 'asset', asset: dimensionToAsset(scope, SYSTEM_DIMENSIONS.time, readableCalendar) };
  yield { type: 'asset', asset: dimensionToAsset(scope, SYSTEM_DIMENSIONS.versions) };
  for await (const version of readableOrSkip(
    await client.versions(path),
    'versions',
    path,
    skips,
  ) ?? []) {
    yield { type: 'asset', asset: versionToAsset(scope, version) };
  }
  for await (const module of readableOrSkip(await client.modules(path), 'modules', path, skips) ??
    []) {
    yield { type: 'asset', asset: moduleToAsset(scope, module) };
  }
  for await (const view of readableOrSkip(await client.views(path), 'views', path, skips) ?? []) {
    yield { type: 'asset', asset: viewToAsset(scope, view) };
  }
  const lineItems = readableOrSkip(await client.lineItems(path), 'lineItems', path, skips);
  for await (const item of lineItems ?? []) {
    yield { type: 'asset', asset: lineItemToAsset(scope, item) };
  }
  yield { type: 'asset', asset: modelToAsset(tenant, model, true) };
}

async function* listAssets(
  client: AnaplanClient,
  scope: ModelScope,
  lists: readonly NamedObject[],
  skips: SkipLedger,
): AsyncGenerator<ConnectorEvent> {
  for (const list of lists) {
    const meta = await client.listMetadata(scope, list.id);
    const ids = { workspaceId: scope.workspaceId, modelId: scope.modelId, listId: list.id };
    const readable = readableOrSkip(meta, 'listMetadata', ids, skips);
    yield { type: 'asset', asset: listToAsset(scope, list, readable) };
  }
}

function readableOrSkip<T>(
  result: Readable<T>,
  kind: SkipKind,
  ids: Parameters<SkipLedger['record']>[1],
  skips: SkipLedger,
): T | undefined {
  if (result.readable) {
    return result.value;
  }
  skips.record(kind, ids, result.status);
  return undefined;
}

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const all: T[] = [];
  for await (const item of items) {
    all.push(item);
  }
  return all;
}

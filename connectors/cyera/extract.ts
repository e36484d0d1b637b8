import { flattenChunks } from '../../agent/plugin-api/index.ts';
import type {
  Asset,
  ConnectorContext,
  ConnectorEvent,
  JsonObject,
} from '../../agent/plugin-api/index.ts';
import { IssueTally, ScopedTallies, tallyIdentities, tallyIssues } from './aggregate.ts';
import type { IdentityTally } from './aggregate.ts';
import { CyeraClient } from './client.ts';
import type { CyeraConfig, CyeraParams } from './config.ts';
import { cursorJson, parseCursor } from './cursor.ts';
import type { DatastorePosition } from './cursor.ts';
import {
  columnToAsset,
  databaseToAsset,
  datastoreToAsset,
  schemaToAsset,
  tableToAsset,
} from './map.ts';
import type { Datastore, TableLine } from './records.ts';
import { selectDatastores } from './selection.ts';
import { streamTables } from './stream.ts';

/** The context the Cyera operations receive. */
export type CyeraContext = ConnectorContext<CyeraConfig, CyeraParams>;

/** Events made together (a table line's assets), handed out one by one. */
type Chunk = readonly ConnectorEvent[];

/**
 * Extracts the selected datastores in uid order, one after the other. A checkpoint follows each
 * datastore, and one is offered inside a datastore every `checkpointEveryAssets` assets (after a
 * whole table). Issues are read once for the run and summarised per database; identities are
 * read and summarised per datastore; tables come from the stream, one line at a time, and the
 * assets of a line travel together as one chunk.
 */
export function extract(ctx: CyeraContext): AsyncIterableIterator<ConnectorEvent> {
  return flattenChunks(extractChunks(ctx));
}

async function* extractChunks(ctx: CyeraContext): AsyncGenerator<Chunk> {
  const client = new CyeraClient(ctx);
  try {
    yield* extractWith(client, ctx);
  } finally {
    await client.close();
  }
}

async function* extractWith(client: CyeraClient, ctx: CyeraContext): AsyncGenerator<Chunk> {
  const selection = await selectDatastores(client.datastores(), ctx.params);
  const cursor = parseCursor(ctx.cursor, ctx.logger);
  const finished = new Set(cursor.finishedDatastoreUids);
  const pending = selection.filter((datastore) => !finished.has(datastore.uid));
  ctx.logger.info(
    { selected: selection.length, pending: pending.length, resumed: cursor.current !== undefined },
    'Extracting Cyera datastores',
  );
  if (pending.length === 0) {
    return;
  }
  const issues = await tallyIssues(client.issues(), new Set(pending.map((d) => d.uid)));
  for (const datastore of pending) {
    yield* extractDatastore({
      client,
      ctx,
      datastore,
      issues: issues.get(datastore.uid) ?? new ScopedTallies(() => new IssueTally()),
      finished,
      resumeAt: cursor.current?.datastoreUid === datastore.uid ? cursor.current : undefined,
    });
    finished.add(datastore.uid);
    yield [{ type: 'checkpoint', cursor: cursorJson(finished, undefined) }];
  }
}

/** One datastore of a run. */
interface DatastoreJob {
  readonly client: CyeraClient;
  readonly ctx: CyeraContext;
  readonly datastore: Datastore;
  readonly issues: ScopedTallies<IssueTally>;
  /** Datastores finished before this one, for the cursors of its checkpoints. */
  readonly finished: ReadonlySet<string>;
  /** Set when a checkpoint inside this datastore is being resumed. */
  readonly resumeAt: DatastorePosition | undefined;
}

/** What is known while one datastore is extracted: its summaries and what was emitted. */
interface Scope {
  readonly tenant: string;
  readonly datastoreUid: string;
  readonly issues: ScopedTallies<IssueTally>;
  readonly identities: ScopedTallies<IdentityTally>;
  /** Names of the databases and schemas emitted: the only state that grows with the source. */
  readonly databases: Set<string>;
  readonly schemas: Set<string>;
  tables: number;
  columns: number;
}

async function* extractDatastore(job: DatastoreJob): AsyncGenerator<Chunk> {
  const startedMs = Date.now();
  const { client, ctx, datastore } = job;
  const scope: Scope = {
    tenant: ctx.config.tenant,
    datastoreUid: datastore.uid,
    issues: job.issues,
    identities: await tallyIdentities(client.identities(datastore.uid)),
    databases: new Set(),
    schemas: new Set(),
    tables: 0,
    columns: 0,
  };
  if (job.resumeAt === undefined) {
    const summaries = {
      issues: scope.issues.datastore.toJson(),
      identities: scope.identities.datastore.toJson(),
    };
    yield [asset(datastoreToAsset(scope.tenant, datastore, summaries))];
  }
  yield* streamedAssets(job, scope);
  yield [...tablelessDatabases(scope)];
  ctx.logger.info(
    {
      datastoreUid: datastore.uid,
      databases: scope.databases.size,
      schemas: scope.schemas.size,
      tables: scope.tables,
      columns: scope.columns,
      durationMs: Date.now() - startedMs,
    },
    'Extracted Cyera datastore',
  );
}

/** The assets of the table stream, with a checkpoint after a table every so many assets. */
async function* streamedAssets(job: DatastoreJob, scope: Scope): AsyncGenerator<Chunk> {
  const { client, ctx, resumeAt } = job;
  const tables = streamTables({
    datastoreUid: scope.datastoreUid,
    open: () => client.openTableStream(scope.datastoreUid),
    resume: resumeAt && {
      ...resumeAt,
      onSkipped: (table) => {
        markEmitted(table, scope);
      },
    },
    retry: ctx.config.stream,
    signal: ctx.signal,
    logger: ctx.logger,
  });
  let sinceCheckpoint = 0;
  for await (const { table, records, key } of tables) {
    const events = tableHierarchy(scope, table);
    sinceCheckpoint += events.length;
    if (sinceCheckpoint >= ctx.config.checkpointEveryAssets) {
      sinceCheckpoint = 0;
      const position = { datastoreUid: scope.datastoreUid, records, lastKey: key };
      events.push({ type: 'checkpoint', cursor: cursorJson(job.finished, position) });
    }
    yield events;
  }
}

/** Databases Cyera reports issues or access for, but no tables. */
function* tablelessDatabases(scope: Scope): Generator<ConnectorEvent> {
  const { issues, identities } = scope;
  for (const databaseName of [...issues.databaseNames(), ...identities.databaseNames()]) {
    if (!scope.databases.has(databaseName)) {
      scope.databases.add(databaseName);
      yield asset(databaseToAsset({ ...scope, databaseName }, summariesOf(scope, databaseName)));
    }
  }
}

/** Records a table emitted before the resumed checkpoint: its database and schema exist. */
function markEmitted(table: TableLine, scope: Scope): void {
  scope.databases.add(table.databaseName);
  scope.schemas.add(schemaKey(table));
}

function schemaKey(table: TableLine): string {
  return `${table.databaseName}\u0000${table.schemaName}`;
}

/** The assets of one table line: its database and schema the first time, itself, its columns. */
function tableHierarchy(scope: Scope, table: TableLine): ConnectorEvent[] {
  const events: ConnectorEvent[] = [];
  const path = {
    tenant: scope.tenant,
    datastoreUid: scope.datastoreUid,
    databaseName: table.databaseName,
    schemaName: table.schemaName,
  };
  if (!scope.databases.has(path.databaseName)) {
    scope.databases.add(path.databaseName);
    events.push(asset(databaseToAsset(path, summariesOf(scope, path.databaseName))));
  }
  const schema = schemaKey(table);
  if (!scope.schemas.has(schema)) {
    scope.schemas.add(schema);
    events.push(asset(schemaToAsset(path)));
  }
  const tableAsset = tableToAsset(path, table);
  events.push(asset(tableAsset));
  scope.tables += 1;
  const parent = { qualifiedName: tableAsset.qualifiedName, datastoreUid: scope.datastoreUid };
  let position = 0;
  for (const column of table.columns ?? []) {
    position += 1;
    events.push(asset(columnToAsset(parent, column, position)));
  }
  scope.columns += position;
  return events;
}

function summariesOf(
  scope: Scope,
  databaseName: string,
): { issues: JsonObject; identities: JsonObject } {
  return {
    issues: scope.issues.database(databaseName),
    identities: scope.identities.database(databaseName),
  };
}

function asset(value: Asset): ConnectorEvent {
  return { type: 'asset', asset: value };
}

import type { z } from 'zod';
import type { Asset } from './asset.ts';
import type { SecretValue } from './secrets.ts';
import type { HttpClient, HttpMethod } from './http.ts';
import type { JsonValue } from './json.ts';
import type { Logger } from './logger.ts';

/**
 * Why an object was skipped: the source forbade it (`forbidden`), no longer has it (`notFound`,
 * e.g. a stale id), answered something unusable (`invalid`) or took longer than its per-object
 * timeout (`timeout`, see `streamAtMost` in timing.ts).
 */
export type SkipReason = 'forbidden' | 'notFound' | 'invalid' | 'timeout';

/** The reason codes of {@link SkipReason}, for schemas and docs. */
export const SKIP_REASONS: readonly SkipReason[] = ['forbidden', 'notFound', 'invalid', 'timeout'];

/**
 * What `read()` yields: assets, checkpoints that cover every event yielded before them, and the
 * facts the run's honest result is built from (`reported`, `skipped`). Every event is plain
 * data (structured-cloneable): the agent counts them in one place and may carry them across a
 * thread boundary unchanged.
 *
 * A *kind* names a sort of object. Use the asset `typeName` the object has (or would have had)
 * so the run can reconcile: for each kind with a `reported` total, the agent checks that
 * extracted + skipped equals it. A part of an object that is no asset of its own (an access
 * gateway of a repository) may use a kind of its own; such kinds are counted, not reconciled.
 */
export type ConnectorEvent =
  | { readonly type: 'asset'; readonly asset: Asset }
  /**
   * A resumable position. Committed only after every asset yielded before it was accepted by
   * the catalog; a resumed run receives it as `ctx.cursor` and must not yield those assets again.
   */
  | { readonly type: 'checkpoint'; readonly cursor: JsonValue }
  /**
   * The source's own total for a kind, where it states one (a `total`, paging metadata). Yield
   * it once per kind and scope read; several events of one kind add up. Optional: a source
   * that states no totals yields none, and its kinds are not reconciled.
   */
  | { readonly type: 'reported'; readonly kind: string; readonly total: number }
  /**
   * One object the run could not extract and went on without: counted under `kind` and
   * `reason`, its `id` listed in the run's result (the first 100), which then ends `partial`.
   * `id` is the source's id, never a display name; `message` is one line for an operator (no
   * body, no secret). Log a warning too. A whole kind that cannot be read is no skip: throw.
   */
  | {
      readonly type: 'skipped';
      readonly kind: string;
      readonly id: string;
      readonly reason: SkipReason;
      readonly message: string;
    };

/** A request budget: a token bucket refilled at `requestsPerSecond`, holding at most `burst`. */
export interface RateLimit {
  /** Sustained requests per second, across every run and replica on the source (> 0). */
  readonly requestsPerSecond: number;
  /** Requests that may go at once after a quiet spell (≥ 1). */
  readonly burst: number;
}

/** A non-read call the connector makes to authenticate, e.g. `POST /v1/login`. */
export interface AuthCall {
  readonly method: Exclude<HttpMethod, 'GET' | 'HEAD'>;
  /** Exact URL path; `*` matches one path segment. */
  readonly path: string;
}

/**
 * A place a connection reaches. The agent's start-up host check, `perimeter check` (one reach
 * line per endpoint) and the destination policy read exactly these: nothing reads a setting by
 * its key name. Each endpoint's host must lie inside the connector's {@link Connector.defaultHosts}
 * or the operator's `policy.connectors.<name>.allowHosts` (else the run is refused with
 * POLICY_DENIED naming the role and host), and a run's client may reach only these hosts: a
 * request elsewhere, even to another default host, is refused before a socket opens.
 */
export interface Endpoint {
  /** What it is for, unique within a connection: `api`, `auth`, … */
  readonly role: string;
  /** Its origin, `https://host[:port]` (http only to a loopback host); no path. */
  readonly url: string;
}

/**
 * A connector's credential fields: each a secret reference in a job file or instruction, a
 * {@link SecretValue} once resolved. Declared with `z.strictObject({ name: secretValueSchema() })`
 * (optional fields allowed, e.g. one auth mode's) and embedded in `configSchema` under
 * `credentials`.
 *
 * The agent reads credential names from this shape only: `credentials` in a connection is a flat
 * map of these names to references; a name not declared here is a problem naming the declared
 * ones, a required one that is missing is a problem, and only declared names are resolved, just
 * before a run. Give each field a `.describe()`: `docs/configuration.md` lists them.
 */
export type CredentialsSchema = z.ZodObject<
  Record<string, z.ZodType<SecretValue> | z.ZodOptional<z.ZodType<SecretValue>>>
>;

/** A resource a control-plane UI can offer for selection (a datastore, a workspace, a model). */
export interface DiscoveredResource {
  /** Kind of resource, e.g. `datastore`. */
  readonly kind: string;
  /** The id to put in the run params to select it. */
  readonly id: string;
  readonly name: string;
  /** Id of the enclosing resource (a workspace for a model). */
  readonly parentId?: string;
  /** Small non-secret facts for the dropdown: type, provider, engine. */
  readonly attributes?: Readonly<Record<string, JsonValue>>;
}

/** What `check()` reports when credentials and reach are good. */
export interface CheckReport {
  /** One line for the operator, e.g. `logged in; 12 datastores visible`. No secrets. */
  readonly summary: string;
}

/** Everything a connector gets for one operation. No module state: all of it comes from here. */
export interface ConnectorContext<Config, Params> {
  /** The connection settings, validated; credential fields are SecretValues. */
  readonly config: Config;
  /** The operation's params, validated. */
  readonly params: Params;
  /** Aborted on shutdown, cancellation or timeout. Pass it to every request and wait. */
  readonly signal: AbortSignal;
  /** Bound to `{ component: 'connector', connector, runId }`. */
  readonly logger: Logger;
  /** The connection's HTTP client, bound to its destination policy. */
  readonly http: HttpClient;
  /** Cursor of the last committed checkpoint; undefined on a first attempt. */
  readonly cursor: JsonValue | undefined;
  /** Id of the run, for logs. */
  readonly runId: string;
}

/**
 * A connector: one source system. Declared with {@link defineConnector} in
 * `connectors/<name>/index.ts` and listed in `connectors/index.ts`.
 */
export interface Connector<C extends z.ZodType = z.ZodType, P extends z.ZodType = z.ZodType> {
  /** Equals the folder name under connectors/ (kebab-case). */
  readonly name: string;
  /** Semantic version, reported in heartbeats. */
  readonly version: string;
  /** One line saying what the connector extracts. */
  readonly description: string;
  /**
   * Schema of a connection's settings. Credentials live under `credentials`, whose schema is
   * {@link Connector.credentials}: in a job file they are references, resolved before the call.
   */
  readonly configSchema: C;
  /** The credential fields, the same schema `configSchema` holds under `credentials`. */
  readonly credentials: CredentialsSchema;
  /**
   * Every endpoint a connection reaches, derived from its validated settings (called with
   * placeholder credentials, so it must not read them). Pure and cheap: the agent calls it once
   * when it checks a connection, before any secret is resolved or socket opened, and the run's
   * destination policy is exactly these hosts. Roles are unique and stable (`docs/configuration.md`
   * lists them); a host the connector reaches but does not return here is refused.
   */
  endpoints(config: z.output<C>): readonly Endpoint[];
  /** Schema of the params of discover/extract (e.g. a selection of datastores). */
  readonly paramsSchema: P;
  /**
   * Hosts a connection's endpoints may name without the operator's say (`host`, `host:port`,
   * `*.domain`); operators add more under `policy.connectors.<name>.allowHosts`. A bound on the
   * endpoints, not a grant: a run reaches only its connection's declared endpoints.
   */
  readonly defaultHosts: readonly string[];
  /** Non-GET calls it makes to authenticate; every other non-GET/HEAD is refused. */
  readonly authCalls: readonly AuthCall[];
  /**
   * The paths it reads with GET (exact; `*` matches one path segment). When declared, every
   * other GET is refused before a socket opens, so a source's data endpoints, which are reads
   * too, can never be called. Undefined: any GET to an allowed host. HEAD is not restricted.
   */
  readonly readPaths?: readonly string[];
  /**
   * A safe request budget for the source's API, used when a connection declares no `rateLimit`.
   * Every run and replica on one source (connector + endpoint origin) draws from one bucket.
   * Undefined: unbudgeted unless the connection declares one.
   */
  readonly defaultRateLimit?: RateLimit;
  /**
   * The heap a run of this connector may use, in MiB, when the operator sets no
   * `policy.connectors.<name>.runMemoryMb`; undefined: the agent's `queue.runMemoryMb`. Read by
   * the run host, which runs each run in a thread capped at this (RUN_RESOURCE_EXHAUSTED beyond).
   */
  readonly defaultRunMemoryMb?: number;
  /**
   * How many of a worker's `queue.concurrency` slots one run takes (an integer ≥ 1; default 1),
   * so heavy runs leave room for fewer others. Read by the queue worker; capped at the
   * concurrency, so a heavy run still runs (alone).
   */
  readonly weight?: number;
  /** Tests credentials and reach cheaply. Throws a PerimeterError when either is bad. */
  check(ctx: ConnectorContext<z.output<C>, z.output<P>>): Promise<CheckReport>;
  /** Lists the selectable resources. */
  discover(ctx: ConnectorContext<z.output<C>, z.output<P>>): AsyncIterable<DiscoveredResource>;
  /**
   * Streams the metadata. Pulled, never pushed: the runner waits at each `yield` while the
   * catalog is busy. Must stop promptly when `ctx.signal` aborts and release resources in
   * `finally`. Throws PerimeterErrors (SOURCE_*) on failure.
   */
  read(ctx: ConnectorContext<z.output<C>, z.output<P>>): AsyncIterable<ConnectorEvent>;
}

/** Declares a connector; a typed identity function. */
export function defineConnector<C extends z.ZodType, P extends z.ZodType>(
  connector: Connector<C, P>,
): Connector<C, P> {
  return connector;
}

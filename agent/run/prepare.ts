import { createHash } from 'node:crypto';
import { RateLimitSchema } from './settings.ts';
import type { RunSettings } from './settings.ts';
import { checkConnectionConfig, checkEndpoints } from './connection.ts';
import type { CheckedConnection } from './connection.ts';
import { DOCS, problemsError, problemsFromZod } from './problems.ts';
import type { ConfigProblem } from './problems.ts';
import { isHostAllowed } from '../http/policy.ts';
import type { DestinationPolicy } from '../http/types.ts';
import { PerimeterError } from '../plugin-api/index.ts';
import type { Connector, Endpoint, JsonObject, RateLimit } from '../plugin-api/index.ts';
import type { RunSpec } from './types.ts';

/** A run checked and resolved as far as it can be without secrets or network. */
export interface PreparedRun {
  readonly spec: RunSpec;
  readonly connector: Connector;
  /** Identifies the source for the per-connection concurrency cap. */
  readonly connectionKey: string;
  /** The connection's settings, credentials still as references. */
  readonly settings: JsonObject;
  /** The connector's declared credential names → their references. */
  readonly credentialRefs: Readonly<Record<string, string>>;
  /** What the connection reaches, as its connector declares it from the settings. */
  readonly endpoints: readonly Endpoint[];
  readonly params: unknown;
  /** For inline connections from the control plane: the only references they may use. */
  readonly allowRefs: readonly string[] | undefined;
  /** The hosts of {@link PreparedRun.endpoints}, and the connector's auth calls. */
  readonly policy: DestinationPolicy;
  /** The connection's declared request budget (`rateLimit`); else the connector's default. */
  readonly rateLimit?: RateLimit | undefined;
}

/** What preparing a run needs. */
export interface PrepareDeps {
  readonly config: RunSettings;
  readonly connectors: ReadonlyMap<string, Connector>;
  /** Parses a reference and checks it against its profile (and `allowRefs`); no network. */
  checkRef(ref: string, allowRefs: readonly string[] | undefined): void;
}

/**
 * Checks a run before it is queued or executed: the connection exists (or may be given inline),
 * the connector is known, the params and settings are valid, every credential reference parses
 * and is allowed, and every endpoint the connection declares is inside the hosts its connector
 * may reach. The run's destination policy is those endpoints' hosts and nothing else.
 */
export function prepareRun(spec: RunSpec, deps: PrepareDeps): PreparedRun {
  const { connectorName, settings, connectionKey, rateLimit } = locateConnection(spec, deps.config);
  const connector = deps.connectors.get(connectorName);
  if (connector === undefined) {
    throw new PerimeterError('CONNECTOR_UNKNOWN', unknownConnector(connectorName, deps), {
      context: { runId: spec.runId },
    });
  }
  const checked = checkRun(spec, connector, settings, deps);
  if (checked.problems.length > 0) {
    throw problemsError('JOB_INVALID', `Run ${spec.runId}`, checked.problems);
  }
  if (checked.outside.length > 0) {
    throw new PerimeterError(
      'POLICY_DENIED',
      checked.outside.map((problem) => `${problem.path}: ${problem.message}`).join('; '),
      { context: { runId: spec.runId, connector: connector.name } },
    );
  }
  return {
    spec,
    connector,
    connectionKey,
    settings,
    credentialRefs: checked.credentialRefs,
    endpoints: checked.endpoints,
    params: checked.params,
    allowRefs: checked.allowRefs,
    policy: destinationPolicy(connector, checked.endpoints),
    rateLimit,
  };
}

/**
 * Every problem {@link prepareRun} would stop at, as a list, so a command reports them together
 * with the configuration's.
 */
export function runProblems(spec: RunSpec, deps: PrepareDeps): ConfigProblem[] {
  let located: ReturnType<typeof locateConnection>;
  try {
    located = locateConnection(spec, deps.config);
  } catch (error) {
    const message = error instanceof Error ? error.message : 'cannot be used';
    return [{ path: 'connection', message, see: DOCS.jobFile }];
  }
  const connector = deps.connectors.get(located.connectorName);
  if (connector === undefined) {
    const path = spec.connectionId === undefined ? 'connector' : 'connection';
    return [{ path, message: unknownConnector(located.connectorName, deps), see: DOCS.jobFile }];
  }
  const { problems, outside } = checkRun(spec, connector, located.settings, deps);
  return [...problems, ...outside];
}

function unknownConnector(name: string, deps: PrepareDeps): string {
  return `No connector named "${name}"; known: ${[...deps.connectors.keys()].join(', ')}`;
}

/** The connection's and the params' problems, and endpoints outside the permitted hosts. */
function checkRun(spec: RunSpec, connector: Connector, settings: JsonObject, deps: PrepareDeps) {
  const inlineFromControlPlane = spec.connection !== undefined && spec.origin === 'controlPlane';
  const allowRefs = inlineFromControlPlane
    ? (deps.config.policy.connectors[connector.name]?.inlineSecretRefs ?? [])
    : undefined;
  const connection =
    spec.connectionId === undefined
      ? checkConnection(connector, settings, { path: ['connection'], allowRefs, deps })
      : checkNamedConnection(spec.connectionId, connector, settings, deps);
  const problems = [...connection.problems];
  const params = connector.paramsSchema.safeParse(spec.params);
  if (!params.success) {
    problems.push(...problemsFromZod(params.error, ['params'], DOCS.connector(connector.name)));
  }
  return { ...connection, problems, params: params.data, allowRefs };
}

/** A connection checked against its connector and the permitted hosts. */
type ConnectionCheck = CheckedConnection & { readonly outside: ConfigProblem[] };

function checkConnection(
  connector: Connector,
  settings: JsonObject,
  options: {
    readonly path: readonly PropertyKey[];
    readonly allowRefs: readonly string[] | undefined;
    readonly deps: PrepareDeps;
  },
): ConnectionCheck {
  const { path, allowRefs, deps } = options;
  const checked = checkConnectionConfig(connector, settings, {
    path,
    checkRef: (ref: string) => {
      deps.checkRef(ref, allowRefs);
    },
  });
  const permitted = permittedHosts(connector, deps.config);
  const outside = checkEndpoints(connector, checked.endpoints, {
    path,
    isHostAllowed: (url) => isHostAllowed(permitted, url),
  });
  return { ...checked, outside };
}

/**
 * The checks of the configuration's connections, per set of deps: they depend on the
 * configuration alone (settings, references and their profiles, policy), not on the run, so a
 * connection is checked once rather than at every step of every run (the link, the worker and
 * the executor each prepare the run). Runs with an inline connection are checked every time.
 */
const namedChecks = new WeakMap<PrepareDeps, Map<string, ConnectionCheck>>();

function checkNamedConnection(
  connectionId: string,
  connector: Connector,
  settings: JsonObject,
  deps: PrepareDeps,
): ConnectionCheck {
  let checks = namedChecks.get(deps);
  if (checks === undefined) {
    checks = new Map();
    namedChecks.set(deps, checks);
  }
  let check = checks.get(connectionId);
  if (check === undefined) {
    const path = ['connections', connectionId];
    check = checkConnection(connector, settings, { path, allowRefs: undefined, deps });
    checks.set(connectionId, check);
  }
  return check;
}

/**
 * The host patterns a connector may reach at all: its `defaultHosts` and the operator's
 * `policy.connectors.<name>.allowHosts`. A connection's endpoints must lie inside them.
 */
export function permittedHosts(
  connector: Connector,
  config: Pick<RunSettings, 'policy'>,
): string[] {
  const extra = config.policy.connectors[connector.name]?.allowHosts ?? [];
  return [...connector.defaultHosts, ...extra];
}

/**
 * A run's destination policy: the hosts of the endpoints its connection declares (each already
 * checked against {@link permittedHosts}), the connector's auth calls and declared reads. A request to any
 * other host, even a permitted one, is refused before a socket opens.
 */
export function destinationPolicy(
  connector: Connector,
  endpoints: readonly Endpoint[],
): DestinationPolicy {
  const hosts = endpoints.map((endpoint) => new URL(endpoint.url).host);
  return {
    allowedHosts: [...new Set(hosts)],
    allowedCalls: connector.authCalls,
    ...(connector.readPaths === undefined ? {} : { allowedReads: connector.readPaths }),
  };
}

function locateConnection(
  spec: RunSpec,
  config: RunSettings,
): {
  connectorName: string;
  settings: JsonObject;
  connectionKey: string;
  rateLimit?: RateLimit | undefined;
} {
  if (spec.connectionId !== undefined) {
    const connection = config.connections[spec.connectionId];
    if (connection === undefined) {
      throw new PerimeterError(
        'CONNECTION_UNKNOWN',
        `No connection "${spec.connectionId}" is defined under \`connections\``,
        {
          context: { runId: spec.runId, connectionId: spec.connectionId },
        },
      );
    }
    const { connector, rateLimit, ...settings } = connection;
    return {
      connectorName: connector,
      settings: settings as JsonObject,
      connectionKey: `connection:${spec.connectionId}`,
      rateLimit,
    };
  }
  if (spec.connection === undefined) {
    throw new PerimeterError('JOB_INVALID', `Run ${spec.runId} names no connection`, {
      context: { runId: spec.runId },
    });
  }
  if (spec.origin === 'controlPlane' && !config.policy.allowInlineConnections) {
    throw new PerimeterError(
      'POLICY_DENIED',
      'Inline connections from the control plane are disabled by policy.allowInlineConnections',
      {
        context: { runId: spec.runId },
      },
    );
  }
  const { connector, config: inline } = spec.connection;
  const { rateLimit, ...settings } = inline;
  const digest = createHash('sha256')
    .update(JSON.stringify([connector, settings]))
    .digest('hex')
    .slice(0, 16);
  return {
    connectorName: connector,
    settings: settings,
    connectionKey: `inline:${connector}:${digest}`,
    rateLimit: inlineRateLimit(spec, rateLimit),
  };
}

/**
 * An inline connection's `rateLimit`: a local job file may set its source's budget, as a
 * connection under `connections` does; an instruction may not, since the budget protects the
 * source from the agent and is the operator's to set.
 */
function inlineRateLimit(spec: RunSpec, value: unknown): RateLimit | undefined {
  if (value === undefined) {
    return undefined;
  }
  if (spec.origin === 'controlPlane') {
    throw new PerimeterError(
      'POLICY_DENIED',
      "An instruction may not set a connection's rateLimit: the operator sets it under `connections`",
      { context: { runId: spec.runId } },
    );
  }
  const parsed = RateLimitSchema.safeParse(value);
  if (!parsed.success) {
    throw problemsError(
      'JOB_INVALID',
      `Run ${spec.runId}`,
      problemsFromZod(parsed.error, ['connection', 'rateLimit'], DOCS.connections),
    );
  }
  return parsed.data;
}

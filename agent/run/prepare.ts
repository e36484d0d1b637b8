import { createHash } from 'node:crypto';
import type { RunSettings } from './settings.ts';
import { checkBaseUrl, checkConnectionConfig } from './connection.ts';
import { problemsError, problemsFromZod } from './problems.ts';
import { isHostAllowed } from '../http/policy.ts';
import type { DestinationPolicy } from '../http/types.ts';
import { PerimeterError } from '../plugin-api/index.ts';
import type { Connector, JsonObject } from '../plugin-api/index.ts';
import type { RunSpec } from './types.ts';

/** A run checked and resolved as far as it can be without secrets or network. */
export interface PreparedRun {
  readonly spec: RunSpec;
  readonly connector: Connector;
  /** Identifies the source for the per-connection concurrency cap. */
  readonly connectionKey: string;
  /** The connection's settings, credentials still as references. */
  readonly settings: JsonObject;
  readonly credentialRefs: Readonly<Record<string, string>>;
  readonly params: unknown;
  /** For inline connections from the control plane: the only references they may use. */
  readonly allowRefs: readonly string[] | undefined;
  readonly policy: DestinationPolicy;
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
 * and is allowed, and the base URL is inside the destination policy.
 */
export function prepareRun(spec: RunSpec, deps: PrepareDeps): PreparedRun {
  const { connectorName, settings, connectionKey } = locateConnection(spec, deps.config);
  const connector = deps.connectors.get(connectorName);
  if (connector === undefined) {
    throw new PerimeterError(
      'CONNECTOR_UNKNOWN',
      `No connector named "${connectorName}"; known: ${[...deps.connectors.keys()].join(', ')}`,
      {
        context: { runId: spec.runId },
      },
    );
  }
  const inlineFromControlPlane = spec.connection !== undefined && spec.origin === 'controlPlane';
  const allowRefs = inlineFromControlPlane
    ? (deps.config.policy.connectors[connector.name]?.inlineSecretRefs ?? [])
    : undefined;
  const policy = destinationPolicy(connector, deps.config);
  const path =
    spec.connectionId !== undefined ? ['connections', spec.connectionId] : ['connection'];
  const options = {
    path,
    checkRef: (ref: string) => {
      deps.checkRef(ref, allowRefs);
    },
    isHostAllowed: (url: URL) => isHostAllowed(policy.allowedHosts, url),
  };
  const problems = checkConnectionConfig(connector, settings, options);
  const params = connector.paramsSchema.safeParse(spec.params);
  if (!params.success) {
    problems.push(...problemsFromZod(params.error, ['params']));
  }
  if (problems.length > 0) {
    throw problemsError('JOB_INVALID', `Run ${spec.runId}`, problems);
  }
  const outside = checkBaseUrl(connector, settings, options)[0];
  if (outside !== undefined) {
    throw new PerimeterError('POLICY_DENIED', `${outside.path}: ${outside.message}`, {
      context: { runId: spec.runId, connector: connector.name },
    });
  }
  return {
    spec,
    connector,
    connectionKey,
    settings,
    credentialRefs: credentialRefsOf(settings),
    params: params.data,
    allowRefs,
    policy,
  };
}

/** The connector's default hosts plus the operator's additions; auth calls and reads as declared. */
export function destinationPolicy(connector: Connector, config: RunSettings): DestinationPolicy {
  const extra = config.policy.connectors[connector.name]?.allowHosts ?? [];
  return {
    allowedHosts: [...connector.defaultHosts, ...extra],
    allowedCalls: connector.authCalls,
    ...(connector.readPaths === undefined ? {} : { allowedReads: connector.readPaths }),
  };
}

function locateConnection(
  spec: RunSpec,
  config: RunSettings,
): { connectorName: string; settings: JsonObject; connectionKey: string } {
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
    const { connector, ...settings } = connection;
    return {
      connectorName: connector,
      settings: settings as JsonObject,
      connectionKey: `connection:${spec.connectionId}`,
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
  const { connector, config: settings } = spec.connection;
  const digest = createHash('sha256')
    .update(JSON.stringify([connector, settings]))
    .digest('hex')
    .slice(0, 16);
  return { connectorName: connector, settings, connectionKey: `inline:${connector}:${digest}` };
}

function credentialRefsOf(settings: JsonObject): Record<string, string> {
  const credentials = settings['credentials'];
  if (typeof credentials !== 'object' || credentials === null || Array.isArray(credentials)) {
    return {};
  }
  return Object.fromEntries(
    Object.entries(credentials).filter(
      (entry): entry is [string, string] => typeof entry[1] === 'string',
    ),
  );
}

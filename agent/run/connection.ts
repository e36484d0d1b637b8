import { PerimeterError, SecretValue, isPerimeterError } from '../plugin-api/index.ts';
import type { Connector, Endpoint } from '../plugin-api/index.ts';
import { DOCS, formatPath, problemsFromZod } from './problems.ts';
import type { ConfigProblem } from './problems.ts';

/** Checks one secret reference without network; throws a PerimeterError when it is bad. */
export type RefChecker = (ref: string) => void;

/** Checks that a URL's host is among the hosts a connector may reach (agent/http/policy). */
export type HostChecker = (url: URL) => boolean;

/** A connection's settings checked against its connector, before any secret is resolved. */
export interface CheckedConnection {
  readonly problems: ConfigProblem[];
  /**
   * The endpoints the settings declare (credential problems aside, placeholders stand in for
   * them); empty when the settings do not parse.
   */
  readonly endpoints: readonly Endpoint[];
  /** Credential name → secret reference, for the names the connector declares only. */
  readonly credentialRefs: Readonly<Record<string, string>>;
}

/**
 * Validates a connection's settings against its connector without resolving any secret: the
 * names under `credentials` are exactly the connector's declared ones (`connector.credentials`),
 * each a reference that parses and is allowed, and the settings satisfy the connector's schema
 * with placeholders in place of the values. The endpoints are derived from that parse, once.
 * Used for config connections, job files and inline connections from instructions alike.
 * Whether the endpoints are inside the destination policy is a separate question:
 * {@link checkEndpoints}.
 */
export function checkConnectionConfig(
  connector: Connector,
  raw: Readonly<Record<string, unknown>>,
  options: { readonly path: readonly PropertyKey[]; readonly checkRef: RefChecker },
): CheckedConnection {
  const { path } = options;
  const { problems, refs } = checkCredentials(connector, raw['credentials'], options);
  const placeholders = Object.fromEntries(
    Object.keys(connector.credentials.shape)
      .filter((name) => refs[name] !== undefined || !isOptional(connector, name))
      .map((name) => [name, new SecretValue('')]),
  );
  const settings: Record<string, unknown> = { ...raw, credentials: placeholders };
  delete settings['connector'];
  // The request budget is the agent's setting of the connection, not the connector's.
  delete settings['rateLimit'];
  const parsed = connector.configSchema.safeParse(settings);
  if (!parsed.success) {
    problems.push(...problemsFromZod(parsed.error, path, DOCS.connector(connector.name)));
  }
  const endpoints = parsed.success ? connector.endpoints(parsed.data) : [];
  return { problems, endpoints, credentialRefs: refs };
}

/**
 * One problem per declared endpoint whose host is outside the hosts the connector may reach
 * (its `defaultHosts` and the operator's `policy.connectors.<name>.allowHosts`), naming the
 * role, the host and the setting to add it to.
 */
export function checkEndpoints(
  connector: Connector,
  endpoints: readonly Endpoint[],
  options: { readonly path: readonly PropertyKey[]; readonly isHostAllowed: HostChecker },
): ConfigProblem[] {
  return endpoints.flatMap((endpoint) => {
    const url = URL.parse(endpoint.url);
    if (url !== null && options.isHostAllowed(url)) {
      return [];
    }
    const path = formatPath(options.path);
    if (url === null) {
      return [
        {
          path,
          message: `the ${endpoint.role} endpoint is not a URL; check the settings`,
          see: DOCS.connector(connector.name),
        },
      ];
    }
    return [
      {
        path,
        message: `the ${endpoint.role} endpoint's host ${url.host} is outside the hosts ${connector.name} may reach; add it to policy.connectors.${connector.name}.allowHosts only if you trust it`,
        see: DOCS.policy,
      },
    ];
  });
}

function checkCredentials(
  connector: Connector,
  credentials: unknown,
  options: { readonly path: readonly PropertyKey[]; readonly checkRef: RefChecker },
): { problems: ConfigProblem[]; refs: Record<string, string> } {
  const declared = Object.keys(connector.credentials.shape);
  const problems: ConfigProblem[] = [];
  const refs: Record<string, string> = {};
  const at = (name: string): string => formatPath([...options.path, 'credentials', name]);
  const given: unknown = credentials ?? {};
  if (typeof given !== 'object' || given === null || Array.isArray(given)) {
    problems.push({
      path: formatPath([...options.path, 'credentials']),
      message: `must map credential names (${declared.join(', ')}) to secret references`,
      see: DOCS.connector(connector.name),
    });
    return { problems, refs };
  }
  for (const [name, ref] of Object.entries(given)) {
    if (!declared.includes(name)) {
      problems.push({
        path: at(name),
        message: `${connector.name} declares no credential of that name; its credentials are ${declared.join(', ')}`,
        see: DOCS.connector(connector.name),
      });
    } else if (typeof ref !== 'string') {
      problems.push({
        path: at(name),
        message: 'must be a secret reference such as env://NAME, never a literal value',
        see: DOCS.secrets,
      });
    } else {
      refs[name] = ref;
      problems.push(...refProblems(at(name), ref, options.checkRef));
    }
  }
  for (const name of declared) {
    if (!(name in given) && !isOptional(connector, name)) {
      problems.push({
        path: at(name),
        message: `missing; ${connector.name} needs a secret reference here, e.g. env://NAME`,
      });
    }
  }
  return { problems, refs };
}

function isOptional(connector: Connector, name: string): boolean {
  return connector.credentials.shape[name]?.safeParse(undefined).success ?? true;
}

/** The problem with one secret reference, if any: its checker's error, code first. */
export function refProblems(path: string, ref: string, checkRef: RefChecker): ConfigProblem[] {
  try {
    checkRef(ref);
    return [];
  } catch (error) {
    if (isPerimeterError(error)) {
      return [{ path, message: `${error.code}: ${error.message}`, see: DOCS.secrets }];
    }
    throw new PerimeterError('INTERNAL', 'Reference check failed', { cause: error });
  }
}

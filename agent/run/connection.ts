import { PerimeterError, SecretValue, isPerimeterError } from '../plugin-api/index.ts';
import type { Connector } from '../plugin-api/index.ts';
import { formatPath, problemsFromZod } from './problems.ts';
import type { ConfigProblem } from './problems.ts';

/** Checks one secret reference without network; throws a PerimeterError when it is bad. */
export type RefChecker = (ref: string) => void;

/** Checks that a URL's host is in an allowed set (agent/http/policy). */
export type HostChecker = (url: URL) => boolean;

/**
 * Validates a connection's settings against its connector without resolving any secret: every
 * credential must be a reference that parses and is allowed, and the settings must satisfy the
 * connector's schema with placeholders in place of the values. Used for config connections,
 * job files and inline connections from instructions alike. Whether the base URL is inside the
 * destination policy is a separate question: {@link checkBaseUrl}.
 */
export function checkConnectionConfig(
  connector: Connector,
  raw: Readonly<Record<string, unknown>>,
  options: {
    readonly path: readonly PropertyKey[];
    readonly checkRef: RefChecker;
    readonly isHostAllowed: HostChecker;
  },
): ConfigProblem[] {
  const { path } = options;
  const problems: ConfigProblem[] = [];
  const placeholders: Record<string, SecretValue> = {};
  const credentials: unknown = raw['credentials'] ?? {};
  if (typeof credentials !== 'object' || credentials === null || Array.isArray(credentials)) {
    problems.push({
      path: formatPath([...path, 'credentials']),
      message: 'must map credential names to secret references',
    });
  } else {
    for (const [name, ref] of Object.entries(credentials)) {
      const refPath = formatPath([...path, 'credentials', name]);
      if (typeof ref !== 'string') {
        problems.push({
          path: refPath,
          message: 'must be a secret reference such as env://NAME, never a literal value',
        });
        continue;
      }
      try {
        options.checkRef(ref);
      } catch (error) {
        problems.push({ path: refPath, message: describeRefError(error) });
      }
      placeholders[name] = new SecretValue('');
    }
  }
  const settings = { ...raw, credentials: placeholders };
  delete (settings as Record<string, unknown>)['connector'];
  const parsed = connector.configSchema.safeParse(settings);
  if (!parsed.success) {
    problems.push(...problemsFromZod(parsed.error, path));
  }
  return problems;
}

/** A problem when the connection's `baseUrl` host is outside the connector's allowed hosts. */
export function checkBaseUrl(
  connector: Connector,
  raw: Readonly<Record<string, unknown>>,
  options: { readonly path: readonly PropertyKey[]; readonly isHostAllowed: HostChecker },
): ConfigProblem[] {
  const baseUrl = raw['baseUrl'];
  if (typeof baseUrl !== 'string' || !URL.canParse(baseUrl)) {
    return [];
  }
  const url = new URL(baseUrl);
  if (options.isHostAllowed(url)) {
    return [];
  }
  return [
    {
      path: formatPath([...options.path, 'baseUrl']),
      message: `host ${url.host} is outside the hosts ${connector.name} may reach; add it to policy.connectors.${connector.name}.allowHosts only if you trust it`,
    },
  ];
}

function describeRefError(error: unknown): string {
  if (isPerimeterError(error)) {
    return `${error.code}: ${error.message}`;
  }
  throw new PerimeterError('INTERNAL', 'Reference check failed', { cause: error });
}

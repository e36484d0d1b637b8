import { parse as parseYaml, YAMLParseError } from 'yaml';
import type { Connector, SecretStoreDefinition } from '../plugin-api/index.ts';
import { checkConnectionConfig, checkEndpoints } from '../run/connection.ts';
import type { HostChecker, RefChecker } from '../run/connection.ts';
import { envOverlay } from './env.ts';
import { formatPath, problemsError, problemsFromZod } from '../run/problems.ts';
import type { ConfigProblem } from '../run/problems.ts';
import { buildConfigSchema } from './schema.ts';
import type { AgentConfig } from './schema.ts';
import { walkSettings } from './walk.ts';

/** Where configuration comes from: the environment and an optional YAML (or JSON) file. */
export interface ConfigSources {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly file?: { readonly path: string; readonly text: string };
}

/** The connectors and secret stores compiled into this build. */
export interface Registry {
  readonly connectors: readonly Connector[];
  readonly stores: readonly SecretStoreDefinition[];
}

/**
 * Parses and validates the configuration's shape: file, then environment on top. Every problem
 * is collected and thrown at once as CONFIG_INVALID, naming key paths and never echoing values.
 * Semantic checks that need the secret resolver follow in {@link checkConfig}.
 */
export function loadConfig(sources: ConfigSources, registry: Registry): AgentConfig {
  const schema = buildConfigSchema(registry.stores);
  const problems: ConfigProblem[] = [];
  const fromFile = sources.file
    ? parseConfigText(sources.file.path, sources.file.text, problems)
    : {};
  const { overlay, problems: envProblems } = envOverlay(sources.env, walkSettings(schema));
  problems.push(...envProblems);
  const parsed = schema.safeParse(deepMerge(fromFile, overlay));
  if (!parsed.success) {
    problems.push(...problemsFromZod(parsed.error));
  }
  if (problems.length > 0 || !parsed.success) {
    throw problemsError('CONFIG_INVALID', 'The configuration', problems);
  }
  return parsed.data;
}

/**
 * Checks what the schema cannot: connector names, each connection's settings against its
 * connector, every secret reference (parsed and inside its allowlist, no network), the
 * endpoints each connection declares against the hosts its connector may reach, and the jobs'
 * connections and params.
 */
export function checkConfig(
  config: AgentConfig,
  registry: Registry,
  checks: {
    readonly checkRef: RefChecker;
    readonly hostCheckerFor: (connector: Connector) => HostChecker;
  },
): void {
  const byName = new Map(registry.connectors.map((c) => [c.name, c]));
  const known = [...byName.keys()].join(', ');
  const problems: ConfigProblem[] = [];
  for (const name of Object.keys(config.policy.connectors)) {
    if (!byName.has(name)) {
      problems.push({
        path: `policy.connectors.${name}`,
        message: `unknown connector; known: ${known}`,
      });
    }
  }
  for (const [id, connection] of Object.entries(config.connections)) {
    const connector = byName.get(connection.connector);
    if (connector === undefined) {
      problems.push({
        path: `connections.${id}.connector`,
        message: `unknown connector; known: ${known}`,
      });
      continue;
    }
    const path = ['connections', id];
    const checked = checkConnectionConfig(connector, connection, {
      path,
      checkRef: checks.checkRef,
    });
    problems.push(
      ...checked.problems,
      ...checkEndpoints(connector, checked.endpoints, {
        path,
        isHostAllowed: checks.hostCheckerFor(connector),
      }),
    );
  }
  config.jobs.forEach((job, index) => {
    problems.push(...checkJob(config, byName, job, ['jobs', index]));
  });
  for (const ref of [config.catalog?.token].filter((r) => r !== undefined)) {
    try {
      checks.checkRef(ref);
    } catch (error) {
      problems.push({
        path: 'catalog.token',
        message: error instanceof Error ? error.message : 'invalid reference',
      });
    }
  }
  if (problems.length > 0) {
    throw problemsError('CONFIG_INVALID', 'The configuration', problems);
  }
}

function checkJob(
  config: AgentConfig,
  byName: ReadonlyMap<string, Connector>,
  job: AgentConfig['jobs'][number],
  path: readonly PropertyKey[],
): ConfigProblem[] {
  const connection = config.connections[job.connection];
  if (connection === undefined) {
    return [
      {
        path: formatPath([...path, 'connection']),
        message: 'no connection of that id under `connections`',
      },
    ];
  }
  const connector = byName.get(connection.connector);
  if (connector === undefined) {
    return [];
  }
  const params = connector.paramsSchema.safeParse(job.params);
  return params.success ? [] : problemsFromZod(params.error, [...path, 'params']);
}

function parseConfigText(
  path: string,
  text: string,
  problems: ConfigProblem[],
): Record<string, unknown> {
  try {
    const value: unknown = parseYaml(text, { prettyErrors: false });
    if (value === null || value === undefined) {
      return {};
    }
    if (typeof value !== 'object' || Array.isArray(value)) {
      problems.push({
        path,
        message: 'must be a YAML mapping of sections (agent, catalog, connections, ...)',
      });
      return {};
    }
    return value as Record<string, unknown>;
  } catch (error) {
    problems.push({ path, message: describeYamlError(error, text) });
    return {};
  }
}

/** A YAML syntax error by position and code only: the parser's own message quotes the line. */
export function describeYamlError(error: unknown, text: string): string {
  if (error instanceof YAMLParseError) {
    const before = text.slice(0, error.pos[0]).split('\n');
    const where = `line ${before.length}, column ${(before.at(-1)?.length ?? 0) + 1}`;
    return `YAML syntax error at ${where} (${error.code}); fix the file's syntax`;
  }
  return 'could not be parsed as YAML or JSON';
}

function deepMerge(
  base: Record<string, unknown>,
  top: Record<string, unknown>,
): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(top)) {
    const below = out[key];
    out[key] = isPlainObject(below) && isPlainObject(value) ? deepMerge(below, value) : value;
  }
  return out;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

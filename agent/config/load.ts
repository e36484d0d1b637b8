import type { Connector, SecretStoreDefinition } from '../plugin-api/index.ts';
import { checkConnectionConfig, checkEndpoints, refProblems } from '../run/connection.ts';
import type { HostChecker, RefChecker } from '../run/connection.ts';
import { envOverlay } from './env.ts';
import { DOCS, formatPath, problemsError, problemsFromZod } from '../run/problems.ts';
import type { ConfigProblem } from '../run/problems.ts';
import { buildConfigSchema } from './schema.ts';
import type { AgentConfig } from './schema.ts';
import { walkSettings } from './walk.ts';
import { readYamlText } from './yaml-text.ts';

/** Where configuration comes from: the environment and an optional YAML (or JSON) file. */
export interface ConfigSources {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly file?: { readonly path: string; readonly text: string };
}

/** The connectors and secret stores compiled into this build. */
export interface Registry {
  readonly connectors: readonly Connector[];
  readonly stores: readonly SecretStoreDefinition[];
  /**
   * URL of a module whose `connectors` export lists these same connectors, so run threads
   * (`queue.isolation: thread`) load them; without it runs execute in the agent's own thread.
   */
  readonly connectorsModule?: string;
}

/** The configuration as far as it parsed, and every problem found on the way. */
export interface ConfigReading {
  /** Undefined when the file or the schema failed; env problems alone leave it parsed. */
  readonly config: AgentConfig | undefined;
  /**
   * When the schema failed only in sections no semantic check reads (agent, catalog, redis,
   * queue, health, controlPlane, unknown keys): the rest, parsed without them, so connections,
   * references and jobs are still checked in the same pass. Never run.
   */
  readonly checkable: AgentConfig | undefined;
  /** The top-level sections left out of `checkable`. */
  readonly omitted: readonly string[];
  readonly problems: readonly ConfigProblem[];
}

/** Sections the semantic checks do not read: one of them failing leaves the rest checkable. */
const INDEPENDENT_SECTIONS = new Set([
  'agent',
  'catalog',
  'redis',
  'queue',
  'health',
  'controlPlane',
]);

/**
 * Parses and validates the configuration's shape: file, then environment on top, collecting
 * every problem rather than stopping at the first. An unknown or malformed variable is left out
 * of the overlay, so the rest still parses and its semantic checks still run.
 */
export function readConfig(sources: ConfigSources, registry: Registry): ConfigReading {
  const { schema, settings } = schemaOf(registry.stores);
  const problems: ConfigProblem[] = [];
  const fromFile = sources.file
    ? parseConfigText(sources.file.path, sources.file.text, problems)
    : {};
  const env = envOverlay(sources.env, settings);
  problems.push(...env.problems);
  const input = deepMerge(fromFile, env.overlay);
  const parsed = schema.safeParse(input);
  if (!parsed.success) {
    // A bad value from a variable is reported under the variable's name: that is what to fix.
    problems.push(
      ...problemsFromZod(parsed.error).map((problem) => {
        const name = env.variables.get(problem.path);
        return name === undefined
          ? problem
          : { ...problem, path: `${name} (${problem.path})`, see: DOCS.environment };
      }),
    );
  }
  const fileOk = !problems.some((problem) => problem.path === sources.file?.path);
  if (parsed.success || !fileOk) {
    const config = parsed.success && fileOk ? parsed.data : undefined;
    return { config, checkable: config, omitted: [], problems };
  }
  const omitted = [
    ...new Set(
      parsed.error.issues.flatMap((issue) =>
        issue.code === 'unrecognized_keys' && issue.path.length === 0
          ? issue.keys
          : [String(issue.path[0] ?? '')],
      ),
    ),
  ];
  const known = Object.keys(schema.shape);
  const independent = omitted.every((key) => INDEPENDENT_SECTIONS.has(key) || !known.includes(key));
  const rest = Object.fromEntries(Object.entries(input).filter(([key]) => !omitted.includes(key)));
  const salvaged = independent ? schema.safeParse(rest) : undefined;
  return {
    config: undefined,
    checkable: salvaged?.success === true ? salvaged.data : undefined,
    omitted,
    problems,
  };
}

type ConfigSchema = ReturnType<typeof buildConfigSchema>;
const schemas = new WeakMap<
  readonly SecretStoreDefinition[],
  { readonly schema: ConfigSchema; readonly settings: ReturnType<typeof walkSettings> }
>();

/** The schema of a registry's stores, built once (building it takes tens of milliseconds). */
function schemaOf(stores: readonly SecretStoreDefinition[]): {
  readonly schema: ConfigSchema;
  readonly settings: ReturnType<typeof walkSettings>;
} {
  let built = schemas.get(stores);
  if (built === undefined) {
    const schema = buildConfigSchema(stores);
    built = { schema, settings: walkSettings(schema) };
    schemas.set(stores, built);
  }
  return built;
}

/**
 * {@link readConfig}, throwing CONFIG_INVALID with every problem at once. Semantic checks that
 * need the secret resolver follow in {@link checkConfig}.
 */
export function loadConfig(sources: ConfigSources, registry: Registry): AgentConfig {
  const { config, problems } = readConfig(sources, registry);
  if (problems.length > 0 || config === undefined) {
    throw problemsError('CONFIG_INVALID', 'The configuration', problems);
  }
  return config;
}

/** What the semantic checks need besides the config: reference and host checks, no network. */
export interface ConfigChecks {
  readonly checkRef: RefChecker;
  readonly hostCheckerFor: (connector: Connector) => HostChecker;
  /** Set when the command pushes to the catalog, so a missing `catalog` is a problem. */
  readonly requireCatalog?: boolean;
}

/** {@link configProblems}, throwing CONFIG_INVALID when there is any. */
export function checkConfig(config: AgentConfig, registry: Registry, checks: ConfigChecks): void {
  const problems = configProblems(config, registry, checks);
  if (problems.length > 0) {
    throw problemsError('CONFIG_INVALID', 'The configuration', problems);
  }
}

/**
 * Checks what the schema cannot: connector names, each connection's settings against its
 * connector, every secret reference (parsed and inside its allowlist, no network), the
 * endpoints each connection declares against the hosts its connector may reach, the jobs'
 * connections and params, and the catalog.
 */
export function configProblems(
  config: AgentConfig,
  registry: Registry,
  checks: ConfigChecks,
): ConfigProblem[] {
  const byName = new Map(registry.connectors.map((c) => [c.name, c]));
  const unknown = (path: string): ConfigProblem => ({
    path,
    message: `no connector of that name; use one of ${[...byName.keys()].join(', ')}`,
    see: DOCS.connections,
  });
  const problems: ConfigProblem[] = Object.keys(config.policy.connectors)
    .filter((name) => !byName.has(name))
    .map((name) => unknown(`policy.connectors.${name}`));
  for (const [id, connection] of Object.entries(config.connections)) {
    const connector = byName.get(connection.connector);
    if (connector === undefined) {
      problems.push(unknown(`connections.${id}.connector`));
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
  problems.push(...catalogProblems(config, checks));
  return problems;
}

function catalogProblems(config: AgentConfig, checks: ConfigChecks): ConfigProblem[] {
  if (config.catalog === undefined) {
    return checks.requireCatalog === true
      ? [
          {
            path: 'catalog.url',
            message:
              'no catalog is configured; set catalog.url (PERIMETER_CATALOG_URL), or write to a directory with --output DIR',
            see: `${DOCS.configuration}#catalog`,
          },
        ]
      : [];
  }
  const token = config.catalog.token;
  return token === undefined ? [] : refProblems('catalog.token', token, checks.checkRef);
}

function checkJob(
  config: AgentConfig,
  byName: ReadonlyMap<string, Connector>,
  job: AgentConfig['jobs'][number],
  path: readonly PropertyKey[],
): ConfigProblem[] {
  const connection = config.connections[job.connection];
  if (connection === undefined) {
    const ids = Object.keys(config.connections);
    return [
      {
        path: formatPath([...path, 'connection']),
        message:
          ids.length === 0
            ? 'no connection of that id: `connections` is empty; add one there'
            : `no connection of that id; use one of ${ids.join(', ')}, or add it under \`connections\``,
        see: DOCS.jobs,
      },
    ];
  }
  const connector = byName.get(connection.connector);
  if (connector === undefined) {
    return [];
  }
  const params = connector.paramsSchema.safeParse(job.params);
  return params.success
    ? []
    : problemsFromZod(params.error, [...path, 'params'], DOCS.connector(connector.name));
}

function parseConfigText(
  path: string,
  text: string,
  problems: ConfigProblem[],
): Record<string, unknown> {
  const reading = readYamlText(text);
  if ('problem' in reading) {
    problems.push({ path, message: reading.problem, see: DOCS.configuration });
    return {};
  }
  const { value } = reading;
  if (value === null || value === undefined) {
    return {};
  }
  if (typeof value !== 'object' || Array.isArray(value)) {
    problems.push({
      path,
      message: 'must be a YAML mapping of sections (agent, catalog, connections, ...)',
      see: DOCS.configuration,
    });
    return {};
  }
  return value as Record<string, unknown>;
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

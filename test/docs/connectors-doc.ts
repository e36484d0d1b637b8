import { walkSettings } from '../../agent/config/walk.ts';
import type { SettingInfo } from '../../agent/config/walk.ts';
import { SecretValue } from '../../agent/plugin-api/index.ts';
import type { Connector, Endpoint } from '../../agent/plugin-api/index.ts';
import { escape, settingsTable } from './settings-table.ts';

/**
 * The `## Connectors` part of docs/configuration.md: per connector, its settings, credential
 * names, params and endpoint roles, all read from the connector's own schemas and
 * `endpoints()`, so a newly registered connector appears without writing anything here.
 */
export function renderConnectorsDoc(connectors: readonly Connector[]): string[] {
  return [
    '## Connectors',
    '',
    'A connection (`connections.<id>` with `connector: <name>`, or `connection:` in a job file)',
    'holds the settings of its connector; `credentials` maps exactly the credential names below',
    'to secret references. Each connection declares endpoints from its settings, one per role:',
    'their hosts must be among the default hosts or `policy.connectors.<name>.allowHosts`, and a',
    'run reaches those hosts and no other. `perimeter check` prints one `reach` line per endpoint.',
    '',
    'A connection under `connections`, or one inline in a local job file, may also set',
    '`rateLimit: { requestsPerSecond, burst }`: the request budget of its source (connector +',
    'endpoint origin), shared in Redis by every run and replica; a 429 pauses it for `Retry-After`',
    'and halves it for 30 s. Without it, the connector default below applies (see',
    'docs/decisions.md, "Source request budgets"). An instruction from the control plane may not',
    "set one (`POLICY_DENIED`): the budget protects the source and is the operator's to set.",
    '',
    ...connectors.flatMap(connectorSection),
  ];
}

/** One connector's section. */
export function connectorSection(connector: Connector): string[] {
  const settings = walkSettings(connector.configSchema).filter((s) => s.path[0] !== 'credentials');
  const hosts = connector.defaultHosts.map((host) => `\`${host}\``).join(', ') || 'none';
  return [
    `### \`${connector.name}\``,
    '',
    connector.description,
    '',
    ...settingsTable(settings, false),
    '',
    `Credentials (under \`credentials\`, each a secret reference):`,
    '',
    '| name | required | description |',
    '|---|---|---|',
    ...walkSettings(connector.credentials).map(
      (s) =>
        `| \`${s.path.join('.')}\` | ${s.required ? 'yes' : 'no'} | ${escape(s.description)} |`,
    ),
    '',
    'Params (`params` of a job or a run):',
    '',
    ...settingsTable(walkSettings(connector.paramsSchema), false),
    '',
    `Default request budget: ${budgetOf(connector)}.`,
    '',
    `Endpoints (default hosts: ${hosts}):`,
    '',
    '| role | from setting | default |',
    '|---|---|---|',
    ...endpointRows(connector, settings),
    '',
  ];
}

/**
 * Finds which setting each endpoint comes from: the settings are parsed with their defaults and
 * a marker origin in each required string; then each optional string is tried with a marker of
 * its own, and kept when it makes a new endpoint appear.
 */
function endpointRows(connector: Connector, settings: readonly SettingInfo[]): string[] {
  const sources = new Map<string, SettingInfo>();
  const sample: Record<string, unknown> = {};
  for (const setting of settings) {
    if (typeof setting.defaultValue === 'string' && URL.canParse(setting.defaultValue)) {
      sources.set(new URL(setting.defaultValue).origin, setting);
    } else if (setting.required && setting.kind === 'string') {
      setAt(sample, setting.path, markerOf(setting));
      sources.set(markerOf(setting), setting);
    }
  }
  const required = endpointsOf(connector, sample);
  if (required === undefined) {
    return ['| (derived from the settings) | | |'];
  }
  let endpoints = required;
  for (const setting of settings.filter((s) => !s.required && s.kind === 'string')) {
    const trial = structuredClone(sample);
    setAt(trial, setting.path, markerOf(setting));
    const added = endpointsOf(connector, trial)?.find((e) => e.url === markerOf(setting));
    if (added !== undefined && !endpoints.some((e) => e.role === added.role)) {
      sources.set(markerOf(setting), setting);
      endpoints = [...endpoints, added];
    }
  }
  return endpoints.map((endpoint) => {
    const setting = sources.get(endpoint.url);
    const from = setting === undefined ? '' : `\`${setting.path.join('.')}\``;
    const fallback = setting?.required === false && setting.defaultValue === undefined;
    const value =
      typeof setting?.defaultValue === 'string'
        ? `\`${setting.defaultValue}\``
        : fallback
          ? 'only when set'
          : '';
    return `| \`${endpoint.role}\` | ${from} | ${value} |`;
  });
}

function endpointsOf(
  connector: Connector,
  sample: Record<string, unknown>,
): readonly Endpoint[] | undefined {
  const parsed = connector.configSchema.safeParse({
    ...sample,
    credentials: placeholderCredentials(connector),
  });
  return parsed.success ? connector.endpoints(parsed.data) : undefined;
}

function placeholderCredentials(connector: Connector): Record<string, SecretValue> {
  return Object.fromEntries(
    Object.keys(connector.credentials.shape).map((name) => [name, new SecretValue('')]),
  );
}

const markerOf = (setting: SettingInfo): string =>
  `https://${setting.path.join('-').toLowerCase()}.setting.invalid`;

function setAt(target: Record<string, unknown>, path: readonly string[], value: unknown): void {
  const [head, ...rest] = path;
  if (head === undefined) {
    return;
  }
  if (rest.length === 0) {
    target[head] = value;
    return;
  }
  const child = (target[head] ??= {}) as Record<string, unknown>;
  setAt(child, rest, value);
}

function budgetOf(connector: Connector): string {
  const limit = connector.defaultRateLimit;
  return limit === undefined
    ? 'none'
    : `${limit.requestsPerSecond} requests/s, burst ${limit.burst}`;
}

import { DOCS } from '../run/problems.ts';
import type { ConfigProblem } from '../run/problems.ts';
import type { SettingInfo } from './walk.ts';

/** The env var naming the YAML config file. */
export const CONFIG_FILE_ENV = 'PERIMETER_CONFIG';
const PREFIX = 'PERIMETER_';

/**
 * Standard variables Perimeter honours, mapped to settings (a PERIMETER_ variable wins).
 * NODE_EXTRA_CA_CERTS is not one of them: Node adds its certificates to the default CA set
 * itself, and `http.caFile` is trusted on top of that set, never replaced by it.
 */
const STANDARD_VARIABLES: Readonly<Record<string, string>> = {
  HTTPS_PROXY: 'http.httpsProxy',
  https_proxy: 'http.httpsProxy',
  HTTP_PROXY: 'http.httpProxy',
  http_proxy: 'http.httpProxy',
  NO_PROXY: 'http.noProxy',
  no_proxy: 'http.noProxy',
};

/** `['catalog', 'batchMaxAssets']` → `PERIMETER_CATALOG_BATCH_MAX_ASSETS`. */
export function envName(path: readonly string[]): string {
  return (
    PREFIX + path.map((key) => key.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase()).join('_')
  );
}

/** Whether a setting can be given as an environment variable (maps are YAML-only). */
export function isEnvSettable(setting: SettingInfo): boolean {
  return setting.kind !== 'map' && setting.kind !== 'other';
}

/**
 * Builds the overlay of settings given by environment variables. An unknown PERIMETER_
 * variable is a problem (a typo would otherwise be silently ignored); values are never echoed.
 */
export function envOverlay(
  env: Readonly<Record<string, string | undefined>>,
  settings: readonly SettingInfo[],
): {
  overlay: Record<string, unknown>;
  problems: ConfigProblem[];
  /** Which variable set each setting (`agent.logLevel` → `PERIMETER_AGENT_LOG_LEVEL`). */
  variables: Map<string, string>;
} {
  const byName = new Map(settings.filter(isEnvSettable).map((s) => [envName(s.path), s]));
  const byPath = new Map(settings.map((s) => [s.path.join('.'), s]));
  const overlay: Record<string, unknown> = {};
  const problems: ConfigProblem[] = [];
  const variables = new Map<string, string>();
  const assign = (setting: SettingInfo, name: string, raw: string): void => {
    const value = coerce(setting, raw);
    if (value === undefined) {
      problems.push({
        path: name,
        message: `must be ${describeKind(setting)} (it sets ${setting.path.join('.')})`,
        see: DOCS.environment,
      });
      return;
    }
    setIn(overlay, setting.path, value);
    variables.set(setting.path.join('.'), name);
  };
  for (const [name, path] of Object.entries(STANDARD_VARIABLES)) {
    const raw = env[name];
    const setting = byPath.get(path);
    if (raw !== undefined && raw !== '' && setting && env[envName(setting.path)] === undefined) {
      assign(setting, name, raw);
    }
  }
  for (const [name, raw] of Object.entries(env)) {
    if (!name.startsWith(PREFIX) || name === CONFIG_FILE_ENV || raw === undefined) {
      continue;
    }
    const setting = byName.get(name);
    if (setting === undefined) {
      problems.push({
        path: name,
        message: `no setting has this variable${suggest(name, byName)}; rename or unset it`,
        see: DOCS.environment,
      });
      continue;
    }
    assign(setting, name, raw);
  }
  return { overlay, problems, variables };
}

function coerce(setting: SettingInfo, raw: string): unknown {
  switch (setting.kind) {
    case 'number': {
      const value = Number(raw.trim());
      return raw.trim() === '' || !Number.isFinite(value) ? undefined : value;
    }
    case 'boolean':
      return { true: true, '1': true, false: false, '0': false }[raw.trim().toLowerCase()];
    case 'list':
      return raw
        .split(',')
        .map((item) => item.trim())
        .filter((item) => item !== '');
    case 'string':
    case 'enum':
      return raw;
    case 'map':
    case 'other':
      return undefined;
  }
}

function describeKind(setting: SettingInfo): string {
  switch (setting.kind) {
    case 'number':
      return 'a number';
    case 'boolean':
      return 'true or false';
    case 'list':
      return 'a comma-separated list';
    case 'enum':
      return `one of ${(setting.values ?? []).join(', ')}`;
    case 'string':
    case 'map':
    case 'other':
      return 'text';
  }
}

/** Most edits between a variable and a setting's variable for a "did you mean". */
const SUGGEST_DISTANCE = 3;

function suggest(name: string, known: ReadonlyMap<string, SettingInfo>): string {
  // The length check first: the distance of two names of lengths m and n costs m×n, and a name
  // of many kilobytes (a mistake, or hostile) would take seconds against every setting.
  const close = [...known.keys()].filter(
    (candidate) =>
      Math.abs(candidate.length - name.length) <= SUGGEST_DISTANCE &&
      distance(candidate, name) <= SUGGEST_DISTANCE,
  );
  return close.length > 0 ? ` (did you mean ${close.slice(0, 3).join(' or ')}?)` : '';
}

/** Levenshtein distance, for "did you mean". */
function distance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, index) => index);
  for (let i = 1; i <= a.length; i += 1) {
    const current = [i];
    for (let j = 1; j <= b.length; j += 1) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      current.push(
        Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, (previous[j - 1] ?? 0) + cost),
      );
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}

/** Sets `value` at `path` in a plain object tree, creating objects on the way. */
export function setIn(
  target: Record<string, unknown>,
  path: readonly string[],
  value: unknown,
): void {
  let node = target;
  path.slice(0, -1).forEach((key) => {
    const next = node[key];
    if (typeof next !== 'object' || next === null || Array.isArray(next)) {
      node[key] = {};
    }
    node = node[key] as Record<string, unknown>;
  });
  const last = path.at(-1);
  if (last !== undefined) {
    node[last] = value;
  }
}

import { envName, isEnvSettable } from '../../agent/config/env.ts';
import type { SettingInfo } from '../../agent/config/walk.ts';

/** A reference table of settings: key, env variable (optional), type, default, description. */
export function settingsTable(rows: readonly SettingInfo[], withEnv = true): string[] {
  const header = withEnv
    ? '| key | env | type | default | description |'
    : '| key | type | default | description |';
  const rule = withEnv ? '|---|---|---|---|---|' : '|---|---|---|---|';
  return [
    header,
    rule,
    ...rows.map((s) => {
      const env = isEnvSettable(s) ? `\`${envName(s.path)}\`` : 'YAML only';
      const cells = [
        `\`${s.path.join('.')}\``,
        ...(withEnv ? [env] : []),
        typeOf(s),
        defaultOf(s),
        escape(s.description),
      ];
      return `| ${cells.join(' | ')} |`;
    }),
  ];
}

function typeOf(setting: SettingInfo): string {
  return setting.kind === 'enum'
    ? (setting.values ?? []).map((v) => `\`${v}\``).join(' \\| ')
    : setting.kind;
}

function defaultOf(setting: SettingInfo): string {
  if (setting.defaultValue === undefined) {
    return setting.required ? '**required**' : '';
  }
  const value = JSON.stringify(setting.defaultValue);
  return value === '{}' || value === '[]' ? `\`${value}\`` : `\`${escape(value)}\``;
}

/** Escapes a table cell's pipes. */
export function escape(text: string): string {
  return text.replaceAll('|', '\\|');
}

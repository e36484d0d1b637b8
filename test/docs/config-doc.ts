import { buildConfigSchema } from '../../agent/config/schema.ts';
import { LocalJobSchema } from '../../agent/config/sections.ts';
import { walkSettings } from '../../agent/config/walk.ts';
import type { SettingInfo } from '../../agent/config/walk.ts';
import { readFileSync } from 'node:fs';
import { ConnectorPolicySchema } from '../../agent/run/settings.ts';
import { connectors } from '../../connectors/index.ts';
import { secretStores } from '../../secrets/index.ts';
import { renderConnectorsDoc } from './connectors-doc.ts';
import { settingsTable } from './settings-table.ts';

/** Renders docs/configuration.md from the config schema, the single source of every setting. */
export function renderConfigDoc(): string {
  const settings = walkSettings(buildConfigSchema(secretStores));
  const sections = new Map<string, SettingInfo[]>();
  for (const setting of settings) {
    const section = setting.path[0] ?? '';
    sections.set(section, [...(sections.get(section) ?? []), setting]);
  }
  const parts = [...sections.entries()].map(([section, rows]) =>
    [`## \`${section}\``, '', ...settingsTable(rows), '', ...(ENTRIES[section]?.() ?? [])].join(
      '\n',
    ),
  );
  const stores = secretStores.map((store) =>
    [
      `### \`secretStores.<profile>\` with \`type: ${store.scheme}\``,
      '',
      ...settingsTable(walkSettings(store.profileSchema, ['secretStores', '<profile>']), false),
      '',
    ].join('\n'),
  );
  return [
    '# Configuration reference',
    '',
    ...examples(),
    '## Environment variables',
    '',
    'Perimeter reads an optional YAML file (path in `PERIMETER_CONFIG` or `--config FILE`) and then',
    'environment variables on top: every setting that is not a map can be given as',
    '`PERIMETER_<SECTION>_<KEY>` (camelCase split by underscores, lists comma-separated). The',
    'standard `HTTPS_PROXY`, `HTTP_PROXY` and `NO_PROXY` are honoured too (a `PERIMETER_HTTP_*`',
    'variable wins). Unknown keys and unknown `PERIMETER_` variables are errors, so a typo never',
    'goes unnoticed. Every problem is reported at once, at startup, with its key path and what to',
    'do; values are never echoed. Secrets are never literal values here: only secret references',
    '(docs/secrets.md).',
    '',
    '**Trusted certificate authorities combine; none replaces another.** Every outbound HTTPS call',
    "(sources, catalog, control plane, secret stores) trusts, all together: Node's bundled public",
    'roots; the certificates of `NODE_EXTRA_CA_CERTS` (read by Node itself when the process starts;',
    'many images point it at the system bundle); the system store when Node runs with',
    '`--use-system-ca`; and the PEM bundle of `http.caFile` (Helm: `tls.extraCaBundle.configMap`).',
    "A store profile's own `caFile` adds to these for that profile. `NODE_EXTRA_CA_CERTS` does not",
    'set `http.caFile`: setting one never hides the other. When a certificate is not trusted, the',
    '`TLS_UNTRUSTED` error names the certificate the host presented (subject, issuer, SHA-256',
    'fingerprint, read by a second handshake that sends no request), whether it leads to a public',
    'root (if not, a TLS-inspecting proxy is likely), and what is trusted at that moment.',
    '',
    ...parts,
    '## Secret store profiles',
    '',
    'Each profile has `type` (the store), `allow` (globs over the canonical locator; a reference',
    'outside them is refused before any call) and the settings of its store:',
    '',
    ...stores,
    ...renderConnectorsDoc(connectors),
    '<!-- Generated from the config schemas by `npm run docs:gen`; a test keeps it in step. -->',
    '',
  ].join('\n');
}

/** The keys of one entry of a list or map section, which the walk above stops at. */
const ENTRIES: Readonly<Record<string, () => string[]>> = {
  jobs: jobEntries,
  connections: connectionEntries,
  policy: policyEntries,
};

/** The example configs of deploy/examples/, each loaded by test/integration/deploy.test.ts. */
function examples(): string[] {
  const show = (file: string): string[] => [
    '```yaml',
    readFileSync(new URL(`../../deploy/examples/${file}`, import.meta.url), 'utf8').trimEnd(),
    '```',
    '',
  ];
  return [
    "Two complete configurations to copy from, each loaded by the agent's config loader in",
    '`test/integration/deploy.test.ts`: a standalone agent with connections, store profiles with',
    'allowlists, policy and scheduled jobs (`deploy/examples/standalone.yaml`), and an agent taking',
    'its work from a control plane (`deploy/examples/control-plane.yaml`). Every key is described',
    'in the sections below.',
    '',
    '<details><summary><code>deploy/examples/standalone.yaml</code></summary>',
    '',
    ...show('standalone.yaml'),
    '</details>',
    '',
    '<details><summary><code>deploy/examples/control-plane.yaml</code></summary>',
    '',
    ...show('control-plane.yaml'),
    '</details>',
    '',
  ];
}

function connectionEntries(): string[] {
  const sections = connectors.map((c) => `[\`${c.name}\`](#${c.name})`);
  return [
    'Each entry of `connections` (YAML only) is keyed by a connection id (lower-case letters,',
    "digits and dashes) and holds `connector`, the connector name, plus that connector's own",
    'settings, such as `baseUrl` and `credentials` (each credential a secret reference, never a',
    `value). Each connector's settings are under Connectors below: ${sections.join(', ')}.`,
    'A job names the connection by its id.',
    '',
    '| key | type | default | description |',
    '|---|---|---|---|',
    '| `connections.<id>.connector` | string | **required** | Connector name, e.g. cyera. |',
    "| `connections.<id>.<setting>` | per connector | | The connector's settings (its README). |",
    '',
  ];
}

function policyEntries(): string[] {
  return [
    'Each entry of `policy.connectors` (YAML only) is keyed by a connector name and narrows or',
    'widens what that connector may do, whatever a job or the control plane asks:',
    '',
    ...settingsTable(
      walkSettings(ConnectorPolicySchema, ['policy', 'connectors', '<name>']),
      false,
    ),
    '',
  ];
}

/** The keys of one entry of `jobs`: a list, so the walk above stops at it. */
function jobEntries(): string[] {
  return [
    'Each entry of `jobs` (YAML only). The schedule follows the same rules as a `schedule`',
    'instruction from the control plane (docs/protocol/control-plane.md).',
    '',
    ...settingsTable(walkSettings(LocalJobSchema, ['jobs[]']), false),
    '',
  ];
}

import { buildConfigSchema } from '../../agent/config/schema.ts';
import { LocalJobSchema } from '../../agent/config/sections.ts';
import { walkSettings } from '../../agent/config/walk.ts';
import type { SettingInfo } from '../../agent/config/walk.ts';
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
    [
      `## \`${section}\``,
      '',
      ...settingsTable(rows),
      '',
      ...(section === 'jobs' ? jobEntries() : []),
    ].join('\n'),
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

import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { checkConfig, loadConfig } from '../../agent/config/load.ts';
import { isHostAllowed } from '../../agent/http/policy.ts';
import { Redactor } from '../../agent/logging/redactor.ts';
import { permittedHosts } from '../../agent/run/prepare.ts';
import { createSecretResolver } from '../../agent/secrets/resolver.ts';
import { SecretsSettingsSchema } from '../../agent/secrets/settings.ts';
import { connectors } from '../../connectors/index.ts';
import { secretStores } from '../../secrets/index.ts';
import { captureLogs } from './capture-logs.ts';
import { helm } from './helm.ts';
import type { KubeObject } from './kube-schemas.ts';

/** The chart, and its example values (`ci/*-values.yaml`, the chart-testing convention). */
export const CHART = fileURLToPath(new URL('../../helm/perimeter', import.meta.url));
export const CI_VALUES = join(CHART, 'ci');
/** The least an install needs (catalog and Redis); other values are layered on top. */
export const MINIMAL_VALUES = join(CI_VALUES, 'minimal-values.yaml');

/** Every example values file, by file name. */
export function ciValuesFiles(): string[] {
  return readdirSync(CI_VALUES)
    .filter((name) => name.endsWith('-values.yaml'))
    .sort();
}

/** A rendered manifest with the parts the tests read. */
export interface Manifest extends KubeObject {
  readonly metadata: { readonly name: string; readonly labels?: Record<string, string> };
  readonly spec?: Record<string, unknown>;
  readonly data?: Record<string, string>;
}

/** `-f` arguments for values files and inline values (written to a temp file, then removed). */
function withValues<T>(
  files: readonly string[],
  inline: Record<string, unknown> | undefined,
  use: (args: string[]) => T,
): T {
  const args = files.flatMap((file) => ['-f', file]);
  if (inline === undefined) {
    return use(args);
  }
  const dir = mkdtempSync(join(tmpdir(), 'perimeter-helm-'));
  try {
    const file = join(dir, 'values.json');
    writeFileSync(file, JSON.stringify(inline));
    return use([...args, '-f', file]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** `helm template <release>` (`acme` unless named) in namespace `perimeter`: the manifests. */
export function renderChart(
  files: readonly string[],
  inline?: Record<string, unknown>,
  release = 'acme',
): Manifest[] {
  const output = withValues(files, inline, (args) =>
    helm(['template', release, CHART, '--namespace', 'perimeter', ...args]),
  );
  return parseAllDocuments(output)
    .map((doc) => doc.toJS() as Manifest | null)
    .filter((m): m is Manifest => m !== null);
}

/** Helm's error for values the chart refuses; throws when it renders them. */
export function chartRefusal(files: readonly string[], inline?: Record<string, unknown>): string {
  try {
    renderChart(files, inline);
  } catch (error) {
    return String((error as { stderr?: string }).stderr ?? error);
  }
  throw new Error('the chart accepted the values');
}

/** The NOTES an operator reads after `helm install` (a client-side dry run: no cluster). */
export function chartNotes(files: readonly string[], inline?: Record<string, unknown>): string {
  const output = withValues(files, inline, (args) =>
    helm(['install', 'acme', CHART, '--namespace', 'perimeter', '--dry-run=client', ...args]),
  );
  const notes = output.split('\nNOTES:\n')[1];
  if (notes === undefined) {
    throw new Error('helm install printed no NOTES');
  }
  return notes;
}

/** `helm lint --strict` with values files: its report; throws when it fails. */
export function lintChart(files: readonly string[]): string {
  return helm(['lint', '--strict', CHART, ...files.flatMap((file) => ['-f', file])]);
}

export const ofKind = (manifests: readonly Manifest[], kind: string): Manifest[] =>
  manifests.filter((m) => m.kind === kind);

/** The agent's config file as the chart renders it. */
export const configOf = (manifests: readonly Manifest[]): string =>
  manifests.find((m) => m.kind === 'ConfigMap' && m.data?.['perimeter.yaml'] !== undefined)?.data?.[
    'perimeter.yaml'
  ] ?? '';

/** The rendered config file must be valid to the agent itself, references and policy included. */
export function assertAgentAccepts(configText: string): void {
  const registry = { connectors, stores: secretStores };
  const config = loadConfig(
    { env: {}, file: { path: 'perimeter.yaml', text: configText } },
    registry,
  );
  const logs = captureLogs();
  const resolver = createSecretResolver({
    stores: secretStores,
    profiles: config.secretStores,
    settings: SecretsSettingsSchema.parse({}),
    network: { extraCaPem: undefined, httpsProxy: undefined, noProxy: undefined },
    redactor: new Redactor(),
    logger: logs.logger,
    environment: {},
  });
  checkConfig(config, registry, {
    checkRef: (ref) => {
      resolver.check(ref);
    },
    hostCheckerFor: (connector) => (url) => isHostAllowed(permittedHosts(connector, config), url),
  });
}

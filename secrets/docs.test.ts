// The Helm values in docs/secrets.md and the stores' READMEs (code fences tagged
// `yaml helm-values`) must work with the chart as it is: each renders with `helm template` on top
// of the least an install needs (ci/minimal-values.yaml: a catalog and a Redis), under
// values.schema.json, which refuses unknown keys; the config it renders loads with every shipped
// store, and the reference named in a `# reads:` comment passes its profile's allowlist.
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../agent/config/load.ts';
import { createSecretResolver } from '../agent/secrets/resolver.ts';
import { connectors } from '../connectors/index.ts';
import { captureLogs } from '../test/helpers/capture-logs.ts';
import { helm } from '../test/helpers/helm.ts';
import { secretStores } from './index.ts';
import { tempDir } from '../test/helpers/temp-dir.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CHART = join(ROOT, 'helm', 'perimeter');
const MINIMAL_VALUES = join(CHART, 'ci', 'minimal-values.yaml');
/** The stores with a README of their own (every configured store has one: a conformance test). */
const WITH_README = secretStores
  .map((store) => store.scheme)
  .filter((scheme) => existsSync(join(ROOT, 'secrets', scheme, 'README.md')));
const DOCS = ['docs/secrets.md', ...WITH_README.map((scheme) => `secrets/${scheme}/README.md`)];
const HELM_VALUES = /^```yaml helm-values\n([\s\S]*?)^```$/gm;
const READS = /# reads: (\S+)/g;

let dir: string;
beforeAll(() => {
  dir = tempDir('docs-values');
});

/** The rendered agent config (the ConfigMap's perimeter.yaml) of a values fragment. */
async function renderConfig(values: string, name: string): Promise<string> {
  const file = join(dir, `${name}.yaml`);
  await writeFile(file, values);
  const manifests = parseAllDocuments(
    helm(['template', 'perimeter', CHART, '-f', MINIMAL_VALUES, '-f', file]),
  );
  const configMap = manifests
    .map((document) => document.toJS() as { kind?: string; data?: Record<string, string> })
    .find((manifest) => manifest.kind === 'ConfigMap');
  return configMap?.data?.['perimeter.yaml'] ?? '';
}

describe.each(DOCS)('the Helm values in %s', (path) => {
  it('render with the chart into a config the agent loads, whose allowlists admit the references shown', async () => {
    const text = await readFile(join(ROOT, path), 'utf8');
    const blocks = [...text.matchAll(HELM_VALUES)].map((match) => match[1] ?? '');
    expect(blocks.length).toBeGreaterThan(0);
    for (const [index, values] of blocks.entries()) {
      const rendered = await renderConfig(values, `${path.replaceAll('/', '-')}-${index}`);
      const config = loadConfig(
        { env: {}, file: { path: `${path} block ${index + 1}`, text: rendered } },
        { connectors, stores: secretStores },
      );
      const logs = captureLogs();
      const resolver = createSecretResolver({
        stores: secretStores,
        profiles: config.secretStores,
        settings: config.secrets,
        network: { extraCaPem: undefined, httpsProxy: undefined, noProxy: undefined },
        redactor: logs.redactor,
        logger: logs.logger,
      });
      const refs = [...values.matchAll(READS)].map((match) => match[1] ?? '');
      expect(refs.length, `${path} block ${index + 1} names a reference`).toBeGreaterThan(0);
      for (const ref of refs) {
        expect(() => resolver.check(ref), `${path} block ${index + 1}: ${ref}`).not.toThrow();
      }
      await resolver.close();
    }
  });
});

describe('the secrets documentation', () => {
  it('links every store README, and every README links back', async () => {
    const docs = await readFile(join(ROOT, 'docs/secrets.md'), 'utf8');
    for (const scheme of WITH_README) {
      expect(docs).toContain(`](../secrets/${scheme}/README.md)`);
      const readme = await readFile(join(ROOT, 'secrets', scheme, 'README.md'), 'utf8');
      expect(readme).toContain('](../../docs/secrets.md');
    }
  });
});

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES } from '../../agent/plugin-api/errors.ts';
import { fixtureConnector } from '../fakes/fixture/connector.ts';
import { connectors } from '../../connectors/index.ts';
import { renderConfigDoc } from './config-doc.ts';
import { connectorSection } from './connectors-doc.ts';
import { renderErrorsDoc } from './errors-doc.ts';
import {
  chartStoreSchemes,
  documentedStores,
  renderSecretsDocLists,
  storeSchemes,
} from './store-lists.ts';

const read = (path: string): string =>
  readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8');

describe('docs/errors.md', () => {
  it('lists every error code with its operator sentence, as generated from the code table', () => {
    const doc = read('docs/errors.md');
    for (const code of Object.keys(ERROR_CODES)) {
      expect(doc).toContain(`| \`${code}\` |`);
    }
    expect(doc).toBe(renderErrorsDoc());
  });
});

describe('docs/configuration.md', () => {
  it('documents every setting, as generated from the config schemas', () => {
    expect(read('docs/configuration.md')).toBe(renderConfigDoc());
  });
});

describe('the lists of secret stores', () => {
  const sorted = storeSchemes().sort();

  it('in docs/secrets.md are generated from the registry, with a section per store', () => {
    const doc = read('docs/secrets.md');
    expect(doc).toBe(renderSecretsDocLists(doc));
    expect(documentedStores(doc)).toEqual(storeSchemes());
  });

  it('in the Helm values schema (reference pattern, profile type) equal the registry', () => {
    const found = chartStoreSchemes(JSON.parse(read('helm/perimeter/values.schema.json')));
    expect(found.patterns.length).toBeGreaterThan(0);
    expect(found.enums.length).toBeGreaterThan(0);
    for (const schemes of [...found.patterns, ...found.enums]) {
      expect([...schemes].sort()).toEqual(sorted);
    }
  });
});

describe('the connector sections of docs/configuration.md', () => {
  it('has one per registered connector, with its credential names and endpoint roles', () => {
    const doc = read('docs/configuration.md');
    for (const connector of connectors) {
      expect(doc).toContain(`### \`${connector.name}\``);
      for (const name of Object.keys(connector.credentials.shape)) {
        expect(doc).toContain(`| \`${name}\` |`);
      }
    }
  });

  it('names the setting each endpoint comes from, an optional one too', () => {
    const section = connectorSection(fixtureConnector).join('\n');
    expect(section).toContain(
      '| `baseUrl` | string | **required** | Origin of the fixture source API. |',
    );
    expect(section).toContain('| `secret` | yes | The client secret the token exchange accepts. |');
    expect(section).toContain('| `alsoFetch` | string |');
    expect(section).toContain('| `api` | `baseUrl` |  |');
    expect(section).toContain('| `auth` | `authUrl` | only when set |');
  });
});

import { describe, expect, it } from 'vitest';
import { isPerimeterError } from '../plugin-api/index.ts';
import { envStore } from '../../secrets/env/index.ts';
import { fileStore } from '../../secrets/file/index.ts';
import { fixtureConnector } from '../../test/fakes/fixture/connector.ts';
import { envName, envOverlay } from './env.ts';
import { checkConfig, loadConfig } from './load.ts';
import type { Registry } from './load.ts';
import { buildConfigSchema } from './schema.ts';
import { walkSettings } from './walk.ts';
import { reviewModeOf } from '../run/settings.ts';

const registry: Registry = { connectors: [fixtureConnector], stores: [envStore, fileStore] };

function configError(run: () => unknown): { code: string; message: string } {
  try {
    run();
  } catch (error) {
    if (isPerimeterError(error)) {
      return { code: error.code, message: error.message };
    }
    throw error;
  }
  throw new Error('expected a configuration error');
}

describe('environment variable names', () => {
  it('derives PERIMETER_SECTION_KEY from camelCase paths', () => {
    expect(envName(['catalog', 'batchMaxAssets'])).toBe('PERIMETER_CATALOG_BATCH_MAX_ASSETS');
    expect(envName(['http', 'retry', 'maxAttempts'])).toBe('PERIMETER_HTTP_RETRY_MAX_ATTEMPTS');
  });

  it('coerces numbers, booleans and lists, and maps the standard proxy variables', () => {
    const settings = walkSettings(buildConfigSchema(registry.stores));
    const { overlay, problems } = envOverlay(
      {
        PERIMETER_HTTP_RETRY_MAX_ATTEMPTS: '7',
        PERIMETER_POLICY_ALLOW_INLINE_CONNECTIONS: 'false',
        HTTPS_PROXY: 'http://proxy.corp:3128',
        NO_PROXY: 'localhost,.corp',
      },
      settings,
    );
    expect(problems).toEqual([]);
    expect(overlay).toEqual({
      http: {
        retry: { maxAttempts: 7 },
        httpsProxy: 'http://proxy.corp:3128',
        noProxy: 'localhost,.corp',
      },
      policy: { allowInlineConnections: false },
    });
  });

  it('reports an unknown PERIMETER_ variable with a suggestion, and a bad number without its value', () => {
    const settings = walkSettings(buildConfigSchema(registry.stores));
    const { problems } = envOverlay(
      { PERIMETER_CATALOG_UR: 'https://x', PERIMETER_HTTP_CONNECT_TIMEOUT_MS: 'ten-seconds-xyz' },
      settings,
    );
    expect(problems.map((p) => p.path)).toEqual([
      'PERIMETER_CATALOG_UR',
      'PERIMETER_HTTP_CONNECT_TIMEOUT_MS',
    ]);
    expect(problems[0]?.message).toContain('did you mean PERIMETER_CATALOG_URL');
    expect(JSON.stringify(problems)).not.toContain('ten-seconds-xyz');
  });
});

describe('loadConfig', () => {
  it('applies defaults and lets the environment override the file', () => {
    const config = loadConfig(
      {
        env: { PERIMETER_CATALOG_URL: 'https://catalog.example.com' },
        file: {
          path: 'perimeter.yaml',
          text: 'catalog:\n  url: https://old.example.com\n  batchMaxAssets: 500\n',
        },
      },
      registry,
    );
    expect(config.catalog?.url).toBe('https://catalog.example.com');
    expect(config.catalog?.batchMaxAssets).toBe(500);
    expect(config.http.retry.maxAttempts).toBeGreaterThan(1);
    expect(config.agent.logLevel).toBe('info');
  });

  it("keeps the file's http.caFile when NODE_EXTRA_CA_CERTS is set: Node trusts that one itself", () => {
    const file = { path: 'perimeter.yaml', text: 'http:\n  caFile: /etc/perimeter/ca/ca.crt\n' };
    const env = { NODE_EXTRA_CA_CERTS: '/etc/ssl/certs/ca-certificates.crt' };
    expect(loadConfig({ env, file }, registry).http.caFile).toBe('/etc/perimeter/ca/ca.crt');
    expect(loadConfig({ env }, registry).http.caFile).toBeUndefined();
  });

  it('reports every problem at once with its key path', () => {
    const text = [
      'catalog:',
      '  url: https://catalog.example.com',
      '  batchMaxAsets: 10',
      'http:',
      '  connectTimeoutMs: soon',
      'agent:',
      '  logLevel: loud',
      'unknownSection: {}',
    ].join('\n');
    const { code, message } = configError(() =>
      loadConfig({ env: {}, file: { path: 'p.yaml', text } }, registry),
    );
    expect(code).toBe('CONFIG_INVALID');
    expect(message).toContain('4 problems');
    for (const path of [
      'catalog.batchMaxAsets',
      'http.connectTimeoutMs',
      'agent.logLevel',
      'unknownSection',
    ]) {
      expect(message).toContain(path);
    }
    expect(message).not.toContain('soon');
    expect(message).not.toContain('loud');
  });

  it('reports a YAML syntax error by line and column without quoting the file', () => {
    const text = 'catalog:\n  url: "https://x\n  token: hunter2-literal-value\n';
    const { code, message } = configError(() =>
      loadConfig({ env: {}, file: { path: 'p.yaml', text } }, registry),
    );
    expect(code).toBe('CONFIG_INVALID');
    expect(message).toMatch(/line \d+, column \d+/);
    expect(message).not.toContain('hunter2');
  });
});

describe('checkConfig', () => {
  const check = (text: string): void => {
    const config = loadConfig({ env: {}, file: { path: 'p.yaml', text } }, registry);
    checkConfig(config, registry, {
      checkRef: (ref) => {
        if (!ref.startsWith('env://')) {
          throw new Error(`bad ${ref}`);
        }
      },
      hostCheckerFor: () => (url) => url.hostname === '127.0.0.1',
    });
  };

  it('accepts a connection whose settings, references and host are valid', () => {
    expect(() => {
      check(
        [
          'policy: { connectors: { fixture: { allowHosts: ["127.0.0.1:*"] } } }',
          'connections:',
          '  src-a: { connector: fixture, baseUrl: "http://127.0.0.1:1234", credentials: { secret: env://SRC_SECRET } }',
          'jobs:',
          '  - { id: nightly, connection: src-a, schedule: { cron: "0 2 * * *" } }',
        ].join('\n'),
      );
    }).not.toThrow();
  });

  it('names unknown connectors, literal, undeclared and missing credentials, bad settings, outside endpoints and dangling jobs', () => {
    const text = [
      'policy: { connectors: { nosuch: {} } }',
      'connections:',
      '  src-a: { connector: fixture, baseUrl: "http://10.0.0.9:1234", credentials: { secret: 42, token: env://T } }',
      '  src-b: { connector: missing }',
      '  src-c: { connector: fixture, baseUrl: "http://127.0.0.1:1", pageSize: 0, credentials: {} }',
      'jobs:',
      '  - { id: nightly, connection: src-zzz }',
    ].join('\n');
    const { message } = configError(() => {
      check(text);
    });
    for (const path of [
      'policy.connectors.nosuch',
      'connections.src-a.credentials.secret: must be a secret reference',
      'connections.src-a.credentials.token: fixture declares no credential of that name; its credentials are secret',
      "connections.src-a: the api endpoint's host 10.0.0.9:1234 is outside the hosts fixture may reach",
      'connections.src-b.connector',
      'connections.src-c.pageSize',
      'connections.src-c.credentials.secret: missing; fixture needs a secret reference here',
      'jobs[0].connection',
    ]) {
      expect(message).toContain(path);
    }
    expect(message).toContain('policy.connectors.fixture.allowHosts');
  });
});

describe('review settings', () => {
  const load = (review: unknown): ReturnType<typeof loadConfig> =>
    loadConfig({ env: {}, file: { path: 'c.json', text: JSON.stringify({ review }) } }, registry);

  it('requires review.dir as soon as any mode holds extracts', () => {
    expect(load({}).review).toEqual({ mode: 'off', connections: {} });
    expect(configError(() => load({ mode: 'first' }))).toMatchObject({
      code: 'CONFIG_INVALID',
      message: expect.stringContaining('review.dir') as unknown,
    });
    expect(configError(() => load({ connections: { fx: 'every' } })).message).toContain(
      'review.dir',
    );
  });

  it('lets a connection override the agent-wide mode; inline connections follow the agent', () => {
    const { review } = load({ mode: 'every', dir: '/r', connections: { fx: 'off' } });
    expect(reviewModeOf(review, 'fx')).toBe('off');
    expect(reviewModeOf(review, 'other')).toBe('every');
    expect(reviewModeOf(review, undefined)).toBe('every');
  });
});

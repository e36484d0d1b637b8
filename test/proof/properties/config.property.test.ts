import fc from 'fast-check';
import { stringify as toYaml } from 'yaml';
import { describe, expect, it } from 'vitest';
import { envOverlay } from '../../../agent/config/env.ts';
import { loadConfig, readConfig } from '../../../agent/config/load.ts';
import type { Registry } from '../../../agent/config/load.ts';
import { buildConfigSchema } from '../../../agent/config/schema.ts';
import { walkSettings } from '../../../agent/config/walk.ts';
import { connectors } from '../../../connectors/index.ts';
import { secretStores } from '../../../secrets/index.ts';
import { depth, garbageText, jsonValue, params, parsesOrCoded } from './harness.ts';

const registry: Registry = { connectors, stores: secretStores };
const settings = walkSettings(buildConfigSchema(secretStores));
const variableNames = settings.map(
  (setting) =>
    `PERIMETER_${setting.path.map((key) => key.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()).join('_')}`,
);

const SECTIONS = [
  'agent',
  'http',
  'catalog',
  'secrets',
  'secretStores',
  'policy',
  'connections',
  'controlPlane',
  'redis',
  'queue',
  'health',
  'ledger',
  'review',
  'jobs',
];
const word = fc.stringMatching(/^[a-z][a-zA-Z0-9-]{0,15}$/);
const endpoint = fc.oneof(
  fc.webUrl(),
  fc.string({ maxLength: 40 }),
  fc.constantFrom('not a url', 'http://', 'https://[::1', '://x', 'http://127.0.0.1:1', 'ftp://x'),
);

/** A store profile of each type, with an endpoint of any text. */
const profile = fc.record(
  {
    type: fc.constantFrom(...secretStores.map((store) => store.scheme)),
    endpoint,
    address: endpoint,
    vaultUrl: endpoint,
    allow: fc.array(fc.string({ maxLength: 30 }), { maxLength: 3 }),
  },
  { requiredKeys: ['type'] },
);

const config = fc.oneof(
  fc.dictionary(fc.constantFrom(...SECTIONS), jsonValue, { maxKeys: 6 }),
  fc.record({ secretStores: fc.dictionary(word, profile, { maxKeys: 3 }) }),
  fc.record({
    connections: fc.dictionary(
      word,
      fc.record(
        {
          connector: fc.constantFrom('cyera', 'cyral', 'anaplan', 'x'),
          credentials: fc.dictionary(word, fc.string({ maxLength: 40 }), { maxKeys: 3 }),
        },
        { requiredKeys: [] },
      ),
      { maxKeys: 3 },
    ),
    jobs: fc.array(
      fc.record({ connection: word, params: fc.dictionary(word, jsonValue, { maxKeys: 2 }) }),
      { maxLength: 2 },
    ),
  }),
);

const configText = fc.oneof(
  config.map((value) => toYaml(value)),
  config.map((value) => JSON.stringify(value)),
  garbageText,
);

/** Variables: real names, near misses, long names, any value. */
const variables = fc.dictionary(
  fc.oneof(
    fc.constantFrom(...variableNames),
    fc
      .constantFrom(...variableNames)
      .chain((name) =>
        fc.nat({ max: name.length }).map((at) => `${name.slice(0, at)}X${name.slice(at + 1)}`),
      ),
    fc.string({ maxLength: 30 }).map((tail) => `PERIMETER_${tail}`),
    fc.nat({ max: 100_000 }).map((length) => `PERIMETER_${'A'.repeat(length)}`),
  ),
  fc.oneof(
    fc.string({ maxLength: 40 }),
    fc.constantFrom('true', '0', '-1', '1e309', ' ', 'a,b,,c'),
  ),
  { maxKeys: 6 },
);

describe('the config file and PERIMETER_* variables, over generated input', () => {
  it('read to a config or CONFIG_INVALID problems, never another error', () => {
    fc.assert(
      fc.property(configText, variables, (text, env) => {
        parsesOrCoded('config: file and variables', ['CONFIG_INVALID'], () => {
          const reading = readConfig(
            { env, file: { path: '/etc/perimeter.yaml', text } },
            registry,
          );
          for (const problem of reading.problems) {
            expect(problem.path).not.toBe('');
          }
          return loadConfig({ env, file: { path: '/etc/perimeter.yaml', text } }, registry);
        });
      }),
      params(),
    );
  });

  it('refuse a config nested deep, as a problem of the file', () => {
    fc.assert(
      fc.property(depth, fc.boolean(), (levels, flow) => {
        const text = flow
          ? `connections:\n  c1:\n    connector: cyera\n    x: ${'['.repeat(levels)}${']'.repeat(levels)}\n`
          : `policy:\n${Array.from({ length: Math.min(levels, 120) }, (_, i) => `${'  '.repeat(i + 1)}k${i}:`).join('\n')} 1\n`;
        const reading = readConfig({ env: {}, file: { path: 'c.yaml', text } }, registry);
        if (levels > 64) {
          expect(reading.problems.map((problem) => problem.message).join()).toMatch(
            /nests deeper|YAML/,
          );
        }
      }),
      params(),
    );
  });

  it('suggest a variable quickly whatever the length of an unknown name', () => {
    fc.assert(
      fc.property(fc.nat({ max: 200_000 }), (length) => {
        parsesOrCoded('config: unknown variable suggestion', [], () =>
          envOverlay({ [`PERIMETER_${'Q'.repeat(length)}`]: '1' }, settings),
        );
      }),
      params(),
    );
  });

  it('turn a YAML warning into a problem of the file, with nothing on stderr', () => {
    const reading = readConfig(
      { env: {}, file: { path: 'c.yaml', text: 'agent: !unknown-tag x\n' } },
      registry,
    );
    expect(reading.problems.map((problem) => problem.message).join()).toMatch(
      /YAML problem at line 1/,
    );
  });

  it('refuse an alias bomb as a problem of the file, within the bound', () => {
    const levels = ['a: &a ["x","x","x","x","x","x","x","x","x","x"]'];
    for (let level = 1; level < 9; level += 1) {
      levels.push(
        `${'abcdefghi'[level]}: &${'abcdefghi'[level]} [${Array(10)
          .fill(`*${'abcdefghi'[level - 1]}`)
          .join(',')}]`,
      );
    }
    const text = `agent:\n  x:\n${levels.map((line) => `    ${line}`).join('\n')}\n`;
    const outcome = parsesOrCoded('config: alias bomb', [], () =>
      readConfig({ env: {}, file: { path: 'c.yaml', text } }, registry),
    );
    expect('value' in outcome && outcome.value.problems.map((p) => p.message).join()).toMatch(
      /aliases/,
    );
  });
});

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES } from '../../agent/plugin-api/errors.ts';
import { renderConfigDoc } from './config-doc.ts';
import { renderErrorsDoc } from './errors-doc.ts';

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

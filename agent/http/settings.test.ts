import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { testPki } from '../../test/helpers/tls.ts';
import { isPerimeterError } from '../plugin-api/index.ts';
import { HttpSettingsSchema, readCaBundle } from './settings.ts';
import { tempDir } from '../../test/helpers/temp-dir.ts';

describe('HttpSettingsSchema', () => {
  it('fills every default from an empty section', () => {
    expect(HttpSettingsSchema.parse({})).toEqual({
      connectTimeoutMs: 10_000,
      headersTimeoutMs: 30_000,
      bodyTimeoutMs: 60_000,
      maxResponseBytes: 64 * 1024 * 1024,
      maxLineBytes: 16 * 1024 * 1024,
      maxRedirects: 5,
      retry: { maxAttempts: 5, baseDelayMs: 500, maxDelayMs: 30_000, maxRetryAfterMs: 60_000 },
    });
  });

  it('rejects unknown keys and names them', () => {
    const result = HttpSettingsSchema.safeParse({ proxy: 'http://p:3128' });
    expect(result.success).toBe(false);
    expect(JSON.stringify(result.error?.issues)).toContain('proxy');
  });

  it('rejects a proxy that is not an http(s) URL', () => {
    expect(HttpSettingsSchema.safeParse({ httpsProxy: 'proxy.corp:3128' }).success).toBe(false);
    expect(HttpSettingsSchema.safeParse({ httpsProxy: 'http://proxy.corp:3128' }).success).toBe(
      true,
    );
  });

  it('describes every key in one line', () => {
    const shapes = [HttpSettingsSchema.shape, HttpSettingsSchema.shape.retry.unwrap().shape];
    for (const shape of shapes) {
      for (const [key, schema] of Object.entries(shape)) {
        expect(schema.description, key).toMatch(/^[^\n]+$/);
      }
    }
  });
});

describe('readCaBundle', () => {
  const dir = tempDir('ca');
  const file = (name: string, text: string): string => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };

  it('returns the certificates of a PEM bundle', () => {
    const { caPem } = testPki();
    const bundle = readCaBundle(file('ok.pem', `# corporate CA\n${caPem}`));
    expect(bundle).toContain('-----BEGIN CERTIFICATE-----');
    expect(bundle).not.toContain('corporate');
  });

  it('refuses a file without a certificate, naming http.caFile', () => {
    const error = capture(() => readCaBundle(file('empty.pem', 'not a certificate')));
    expect(isPerimeterError(error, 'CONFIG_INVALID')).toBe(true);
    expect((error as Error).message).toContain('http.caFile');
  });

  it('refuses a certificate block that does not parse', () => {
    const broken = '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n';
    const error = capture(() => readCaBundle(file('broken.pem', broken)));
    expect(isPerimeterError(error, 'CONFIG_INVALID')).toBe(true);
    expect((error as Error).message).toContain('#1');
  });

  it('refuses a missing file, naming http.caFile and the errno code', () => {
    const error = capture(() => readCaBundle(join(dir, 'missing.pem')));
    expect(isPerimeterError(error, 'CONFIG_INVALID')).toBe(true);
    expect((error as Error).message).toMatch(/http\.caFile.*ENOENT/);
  });
});

function capture(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  return undefined;
}

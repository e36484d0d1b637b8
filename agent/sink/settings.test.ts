import { describe, expect, it } from 'vitest';
import { CatalogSettingsSchema } from './settings.ts';

function problems(input: unknown): string[] {
  const result = CatalogSettingsSchema.safeParse(input);
  return result.success
    ? []
    : result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
}

describe('CatalogSettingsSchema', () => {
  it('fills the documented defaults and drops a trailing slash of the url', () => {
    expect(CatalogSettingsSchema.parse({ url: 'https://catalog.example.com/' })).toEqual({
      url: 'https://catalog.example.com',
      batchMaxAssets: 1000,
      batchMaxBytes: 4 * 1024 * 1024,
      checkpointMinAssets: 250,
      maxInFlightBatches: 4,
      retry: { maxAttempts: 8, baseDelayMs: 500, maxDelayMs: 30_000, maxRetryAfterMs: 60_000 },
      gzipLevel: 1,
    });
  });

  it.each(['http://127.0.0.1:8080', 'http://localhost:9000/base', 'http://[::1]:7000'])(
    'accepts plain http for the loopback url %s',
    (url) => {
      expect(problems({ url })).toEqual([]);
    },
  );

  it('refuses plain http to any other host, saying that only loopback may use it', () => {
    expect(problems({ url: 'http://catalog.example.com' })).toEqual([
      'url: must use https; plain http is accepted only for 127.0.0.1, localhost or [::1] (a local simulator)',
    ]);
  });

  it('refuses a url with credentials or a query string', () => {
    expect(problems({ url: 'https://user:pw@catalog.example.com/?x=1' })).toEqual([
      'url: must not carry credentials; put them in catalog.token as a secret reference',
      'url: must not have a query string or a fragment',
    ]);
  });

  it('refuses a literal token and asks for a secret reference', () => {
    expect(problems({ url: 'https://c.example.com', token: 'eyJhbGciOi-literal' })).toEqual([
      'token: must be a secret reference (scheme://locator, e.g. file:///var/run/secrets/catalog/token), never the token itself',
    ]);
    expect(
      problems({ url: 'https://c.example.com', token: 'file:///var/run/secrets/catalog/token' }),
    ).toEqual([]);
  });

  it('refuses unknown keys', () => {
    expect(problems({ url: 'https://c.example.com', batchSize: 5 })).toEqual([
      ': Unrecognized key: "batchSize"',
    ]);
  });
});

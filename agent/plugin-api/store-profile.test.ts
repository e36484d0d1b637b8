import { describe, expect, it } from 'vitest';
import {
  caFileSchema,
  credentialRefSchema,
  requestTimeoutMsSchema,
  storeUrlSchema,
} from './store-profile.ts';
import { isLoopbackHost } from './url.ts';

describe('store profile schema pieces', () => {
  it('accepts a credential only as a reference, and shows the example when refusing a literal', () => {
    const schema = credentialRefSchema('file:///var/run/secrets/perimeter/vault/token');
    expect(schema.safeParse('env://VAULT_TOKEN').success).toBe(true);
    const literal = schema.safeParse('hvs.CAESIliteral');
    expect(literal.error?.issues[0]?.message).toBe(
      'must be a secret reference (scheme://locator, e.g. file:///var/run/secrets/perimeter/vault/token), never a literal credential',
    );
  });

  it('takes https endpoints, and plain http only on loopback', () => {
    const schema = storeUrlSchema();
    expect(schema.safeParse('https://vault.corp:8200').success).toBe(true);
    expect(schema.safeParse('http://127.0.0.1:8200').success).toBe(true);
    expect(schema.safeParse('http://[::1]:8200').success).toBe(true);
    expect(schema.safeParse('http://vault.corp:8200').error?.issues[0]?.message).toContain(
      'plain http only to a loopback address',
    );
    expect(schema.safeParse('ftp://vault.corp').success).toBe(false);
    expect(isLoopbackHost('localhost')).toBe(true);
    expect(isLoopbackHost('127.0.0.2')).toBe(false);
  });

  it('defaults the request timeout to 10 s within 100 ms to 2 min, and documents it', () => {
    const schema = requestTimeoutMsSchema();
    expect(schema.parse(undefined)).toBe(10_000);
    expect(schema.safeParse(50).success).toBe(false);
    expect(schema.safeParse(120_001).success).toBe(false);
    expect(schema.safeParse(1.5).success).toBe(false);
    expect(schema.description).toContain('milliseconds');
  });

  it('takes an optional absolute caFile path, documented', () => {
    const schema = caFileSchema();
    expect(schema.parse(undefined)).toBeUndefined();
    expect(schema.parse('/etc/perimeter/ca/vault.pem')).toBe('/etc/perimeter/ca/vault.pem');
    expect(schema.safeParse('ca.pem').error?.issues[0]?.message).toBe('must be an absolute path');
    expect(schema.description).toContain('PEM');
  });
});

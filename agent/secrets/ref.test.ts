import { describe, expect, it } from 'vitest';
import { PerimeterError } from '../plugin-api/index.ts';
import { isCredentialParam, parseSecretRef } from './ref.ts';
import type { KnownScheme } from './ref.ts';

const schemes: KnownScheme[] = [
  { scheme: 'aws-sm', params: ['region'] },
  { scheme: 'vault', params: ['mount', 'kv', 'namespace'] },
  { scheme: 'env', params: [] },
  { scheme: 'file', params: [] },
];

const parse = (text: string): ReturnType<typeof parseSecretRef> => parseSecretRef(text, schemes);

function parseError(text: string): PerimeterError {
  try {
    parse(text);
  } catch (error) {
    if (error instanceof PerimeterError) {
      return error;
    }
    throw error;
  }
  throw new Error(`expected ${text} to be rejected`);
}

describe('parseSecretRef', () => {
  it.each([
    ['env://CYERA_CLIENT_ID', { scheme: 'env', locator: 'CYERA_CLIENT_ID', profile: 'env' }],
    [
      'aws-sm://prod/db/postgres',
      { scheme: 'aws-sm', locator: 'prod/db/postgres', version: undefined },
    ],
    [
      'aws-sm://arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/db-AbCdEf',
      { locator: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/db-AbCdEf' },
    ],
    [
      'aws-sm://prod/db?version=AWSPREVIOUS&region=eu-west-1#password',
      { version: 'AWSPREVIOUS', params: { region: 'eu-west-1' } },
    ],
    ['aws-sm://Prod/DB', { locator: 'Prod/DB' }],
    ['aws-sm://prod/db?store=aws-prod', { profile: 'aws-prod' }],
    ['vault://secret/apps/a%3Fb%23c%25d', { locator: 'secret/apps/a?b#c%d' }],
    ['vault://kv/team-a/db?kv=1&mount=kv', { params: { kv: '1', mount: 'kv' } }],
    ['env://TOKEN_B64?decode=base64', { decode: 'base64' }],
    ['env://X?decode=base64url&max-age=60', { decode: 'base64url', maxAgeSeconds: 60 }],
    [
      'file:///var/run/secrets/perimeter/token',
      { scheme: 'file', locator: '/var/run/secrets/perimeter/token' },
    ],
  ])('parses %s', (text, expected) => {
    expect(parse(text)).toMatchObject({ raw: text, ...expected });
  });

  it.each([
    ['#password', { kind: 'key', key: 'password' }],
    ['#db.password', { kind: 'key', key: 'db.password' }],
    ['#a%2Fb', { kind: 'key', key: 'a/b' }],
    [
      '#/db/password/0',
      { kind: 'pointer', pointer: '/db/password/0', tokens: ['db', 'password', '0'] },
    ],
    ['#/a~1b/c~0d', { kind: 'pointer', tokens: ['a/b', 'c~d'] }],
    ['#/with%20space', { kind: 'pointer', tokens: ['with space'] }],
  ])('reads the selector %s', (fragment, selector) => {
    expect(parse(`aws-sm://prod/db${fragment}`).selector).toEqual(
      expect.objectContaining(selector),
    );
  });

  it('uses the scheme as the profile, decode none and no selector by default', () => {
    expect(parse('aws-sm://prod/db')).toEqual({
      raw: 'aws-sm://prod/db',
      scheme: 'aws-sm',
      locator: 'prod/db',
      profile: 'aws-sm',
      version: undefined,
      params: {},
      selector: undefined,
      decode: 'none',
      maxAgeSeconds: undefined,
    });
  });

  it.each([
    ['aws-sm://db#password?version=AWSPREVIOUS', /query must come before the fragment/],
    ['postgres://db', /unknown scheme "postgres"; known schemes: aws-sm, vault, env, file/],
    ['aws-sm://', /locator is empty/],
    ['aws-sm://?region=x', /locator is empty/],
    [
      'aws-sm://db?colour=blue',
      /unknown param "colour" for aws-sm; allowed: store, version, decode, max-age, region/,
    ],
    ['env://X?region=eu-west-1', /unknown param "region" for env/],
    ['aws-sm://db?decode=hex', /decode= must be one of none, base64, base64url/],
    ['aws-sm://db?max-age=10', /max-age= must be whole seconds from 30 to 3600/],
    ['aws-sm://db?max-age=3601', /max-age=/],
    ['aws-sm://db?max-age=1e3', /max-age=/],
    ['aws-sm://db?version=', /version= is empty/],
    ['aws-sm://db?store=Prod', /store= must be a profile name/],
    ['aws-sm://db?region', /every param must be name=value/],
    ['aws-sm://db?region=a&region=b', /given twice/],
    ['aws-sm://db#', /selector after # is empty/],
    ['aws-sm://db#a#b', /second #/],
    ['aws-sm://db#/a~2b', /escapes only ~0/],
    ['aws-sm://db%zz', /malformed percent-encoding/],
    ['aws-sm://db name', /whitespace or control characters/],
  ])('rejects %s', (text, message) => {
    const error = parseError(text);
    expect(error.code).toBe('SECRET_INVALID_REF');
    expect(error.message).toMatch(message);
    expect(error.message).toContain('Expected scheme://locator[?params][#selector]');
    expect(error.context).toEqual({ ref: text });
  });

  it.each([
    'vault://secret/db?token=hvs.abcdef',
    'vault://secret/db?role_id=r&secret_id=s',
    'vault://secret/db?Password=hunter22',
    'aws-sm://db?KEY=AKIAEXAMPLE',
    'aws-sm://db?client-secret=x',
    'aws-sm://db?apiKey=x',
    'aws-sm://db?x-auth-token=x',
    'aws-sm://db#password?token=abc',
  ])('rejects the credential-looking params of %s without echoing the reference', (text) => {
    const error = parseError(text);
    expect(error.code).toBe('SECRET_INVALID_REF');
    expect(error.context).toEqual({});
    expect(error.message).not.toContain(text);
    if (!text.includes('#')) {
      expect(error.message).toMatch(/credentials belong in the store profile/);
    }
  });

  it('never echoes a literal value pasted where a reference belongs', () => {
    const error = parseError('hunter2-very-secret');
    expect(error.message).toMatch(/no scheme:\/\/ prefix/);
    expect(error.message).not.toContain('hunter2');
    expect(error.context).toEqual({});
  });

  it('refuses a reference longer than 2048 characters', () => {
    expect(parseError(`env://${'A'.repeat(2048)}`).message).toMatch(/longer than 2048/);
  });
});

describe('isCredentialParam', () => {
  it.each([
    'token',
    'TOKEN',
    'secret_id',
    'role-id',
    'clientSecret',
    'api_key',
    'session_token',
    'key',
  ])('flags %s', (name) => {
    expect(isCredentialParam(name)).toBe(true);
  });

  it.each(['region', 'location', 'mount', 'kv', 'namespace', 'version', 'store'])(
    'accepts %s',
    (name) => {
      expect(isCredentialParam(name)).toBe(false);
    },
  );
});

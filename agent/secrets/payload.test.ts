import { describe, expect, it } from 'vitest';
import type { SecretDecoding, SecretSelector } from '../plugin-api/index.ts';
import { thrownBy as failure } from '../../test/helpers/matchers.ts';
import { extractValue } from './payload.ts';

const json = Buffer.from(
  JSON.stringify({
    user: 'svc',
    password: 'pa55word-xyz',
    port: 5432,
    tls: true,
    db: { hosts: ['a', 'b'] },
    'a/b': 'slash',
    empty: '',
    none: null,
  }),
);

function extract(
  payload: Buffer,
  selector?: SecretSelector,
  decode: SecretDecoding = 'none',
): string {
  return extractValue(payload, { decode, selector, ref: 'env://X' }).toString('utf8');
}

const key = (name: string): SecretSelector => ({ kind: 'key', key: name });
const pointer = (...tokens: string[]): SecretSelector => ({
  kind: 'pointer',
  pointer: `/${tokens.join('/')}`,
  tokens,
});

describe('extractValue', () => {
  it('returns the whole payload as a new buffer without a selector', () => {
    const payload = Buffer.from('whole value');
    const value = extractValue(payload, { decode: 'none', selector: undefined, ref: 'env://X' });
    expect(value.toString()).toBe('whole value');
    value.fill(0);
    expect(payload.toString()).toBe('whole value');
  });

  it.each([
    [key('user'), 'svc'],
    [key('port'), '5432'],
    [key('tls'), 'true'],
    [key('db'), '{"hosts":["a","b"]}'],
    [key('a/b'), 'slash'],
    [pointer('db', 'hosts', '1'), 'b'],
    [pointer('a/b'), 'slash'],
  ])('selects %j', (selector, expected) => {
    expect(extract(json, selector)).toBe(expected);
  });

  it.each([
    [key('missing'), /has no such key/],
    [pointer('db', 'hosts', '2'), /has no such key/],
    [pointer('db', 'hosts', '01'), /has no such key/],
    [pointer('user', 'x'), /has no such key/],
    [key('empty'), /null or empty/],
    [key('none'), /null or empty/],
  ])('refuses %j with SECRET_SELECTOR_INVALID, never an empty string', (selector, message) => {
    const error = failure(() => extract(json, selector));
    expect(error.code).toBe('SECRET_SELECTOR_INVALID');
    expect(error.message).toMatch(message);
  });

  it('refuses a selector on a value that is not JSON without quoting the value', () => {
    const error = failure(() => extract(Buffer.from('plain-canary-value'), key('password')));
    expect(error.code).toBe('SECRET_SELECTOR_INVALID');
    expect(error.message).toMatch(/not JSON/);
    expect(error.message).not.toContain('canary');
    expect(error.context).toEqual({ ref: 'env://X', selector: 'password' });
  });

  it('decodes base64 and base64url before the selector', () => {
    expect(extract(Buffer.from(json.toString('base64') + '\n'), key('password'), 'base64')).toBe(
      'pa55word-xyz',
    );
    const binary = Buffer.from([0xfb, 0xff, 0xfe]);
    expect(
      extractValue(Buffer.from(binary.toString('base64url')), {
        decode: 'base64url',
        selector: undefined,
        ref: 'env://X',
      }),
    ).toEqual(binary);
  });

  it.each([
    ['not base64!', 'base64'],
    ['a+b/', 'base64url'],
    ['abcde', 'base64'],
  ] as const)('refuses %j as %s', (text, decode) => {
    const error = failure(() => extract(Buffer.from(text), undefined, decode));
    expect(error.code).toBe('SECRET_DECODE_INVALID');
    expect(error.message).not.toContain(text);
  });
});

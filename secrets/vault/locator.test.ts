import { describe, expect, it } from 'vitest';
import { isPerimeterError } from '../../agent/plugin-api/index.ts';
import { parseSecretRef } from '../../agent/secrets/ref.ts';
import { vaultStore } from './index.ts';
import { canonicalizeVaultRef, encodeApiPath, targetOf } from './locator.ts';

const DEFAULTS = { kv: 2 as const, namespace: undefined };

interface Extra {
  version?: string;
  params?: Record<string, string>;
}

function canonical(
  locator: string,
  extra: Extra = {},
  defaults: { kv: 1 | 2; namespace: string | undefined } = DEFAULTS,
) {
  const query = new URLSearchParams({
    ...(extra.version === undefined ? {} : { version: extra.version }),
    ...extra.params,
  }).toString();
  const ref = parseSecretRef(`vault://${locator}${query === '' ? '' : `?${query}`}`, [vaultStore]);
  return canonicalizeVaultRef(ref, defaults);
}

describe('vault locators', () => {
  it.each([
    ['secret/apps/agent/openai', {}, 'secret/data/apps/agent/openai'],
    ['secret/data/apps/agent/openai', {}, 'secret/data/apps/agent/openai'],
    ['kv/team-a/db', { params: { kv: '1' } }, 'kv/team-a/db'],
    ['kv/data/db', { params: { kv: '1' } }, 'kv/data/db'],
    ['team/kv/apps/db', { params: { mount: 'team/kv' } }, 'team/kv/data/apps/db'],
    ['apps/db', { params: { mount: 'team/kv' } }, 'team/kv/data/apps/db'],
    ['team/kv/data/apps/db', { params: { mount: '/team/kv/' } }, 'team/kv/data/apps/db'],
    [
      'secret/apps/db',
      { params: { namespace: 'admin/team-a' } },
      'admin/team-a/secret/data/apps/db',
    ],
  ] as const)('canonicalizes %s %j to %s', (locator, extra, expected) => {
    expect(canonical(locator, extra).locator).toBe(expected);
  });

  it('reads the API and the CLI form of a path as the same secret', () => {
    expect(canonical('secret/data/apps/db')).toEqual(canonical('secret/apps/db'));
  });

  it('uses the profile KV version and namespace unless the reference overrides them', () => {
    const profile = { kv: 1 as const, namespace: 'admin' };
    expect(canonical('kv/db', {}, profile).locator).toBe('admin/kv/db');
    expect(canonical('kv/db', { params: { kv: '2' } }, profile).locator).toBe('admin/kv/data/db');
    expect(canonical('kv/db', { params: { namespace: 'other' } }, profile).locator).toBe(
      'other/kv/db',
    );
    expect(targetOf(canonical('kv/db', {}, profile))).toEqual({
      apiPath: 'kv/db',
      kv: 1,
      namespace: 'admin',
      field: '',
    });
  });

  it('pins an integer version of a KV v2 secret', () => {
    const ref = canonical('secret/apps/db', { version: '3' });
    expect(ref).toMatchObject({ version: '3', pinned: true });
    expect(canonical('secret/apps/db')).toMatchObject({ version: undefined, pinned: false });
  });

  it('puts ?field= in the canonical locator, since it changes the payload', () => {
    const ref = canonical('secret/tls/server', { params: { field: 'key.pem' } });
    expect(ref.locator).toBe('secret/data/tls/server?field=key.pem');
    expect(targetOf(ref)).toMatchObject({ apiPath: 'secret/data/tls/server', field: 'key.pem' });
  });

  it('keeps decoded ?, # and % in the canonical path and encodes them on the wire', () => {
    const ref = canonical('secret/odd%3Fname%23x/100%25');
    expect(ref.locator).toBe('secret/data/odd?name#x/100%');
    expect(encodeApiPath(targetOf(ref).apiPath)).toBe('secret/data/odd%3Fname%23x/100%25');
  });

  it.each([
    ['secret', {}, 'no secret path'],
    ['secret/data/', {}, 'empty'],
    ['secret/metadata/apps/db', {}, 'metadata'],
    ['secret/../sys/mounts', {}, '".."'],
    ['secret/./db', {}, '".."'],
    ['secret//db', {}, 'empty'],
    ['/secret/db', {}, 'empty'],
    ['secret/db/', {}, 'empty'],
    ['secret/db', { params: { kv: '3' } }, '?kv='],
    ['kv/db', { params: { kv: '1' }, version: '2' }, 'KV v1 has no versions'],
    ['secret/db', { version: 'latest' }, 'positive integer'],
    ['secret/db', { version: '0' }, 'positive integer'],
    ['secret/db', { params: { mount: 'a//b' } }, 'empty'],
    ['secret/db', { params: { namespace: 'a/../b' } }, '".."'],
    ['secret/db', { params: { field: '' } }, '?field='],
  ] as const)('refuses %s %j with SECRET_INVALID_REF', (locator, extra, problem) => {
    let caught: unknown;
    try {
      canonical(locator, extra);
    } catch (error) {
      caught = error;
    }
    expect(isPerimeterError(caught, 'SECRET_INVALID_REF')).toBe(true);
    expect((caught as Error).message).toContain(problem);
    expect((caught as Error).message).toContain('vault://<mount>/<path>');
  });
});

import { describe, expect, it } from 'vitest';
import { isPerimeterError } from '../../agent/plugin-api/index.ts';
import type { SecretRef } from '../../agent/plugin-api/index.ts';
import { parseSecretRef } from '../../agent/secrets/ref.ts';
import { containing } from '../../test/helpers/matchers.ts';
import { crc32c } from './crc32c.ts';
import { gcpSmStore } from './index.ts';
import { canonicalizeGcpRef } from './locator.ts';

const ALLOWED = ['acme-prod', '123456789012', 'example.com:legacy-proj'];

function ref(
  locator: string,
  extra: { version?: string; params?: Record<string, string> } = {},
): SecretRef {
  const query = new URLSearchParams({
    ...(extra.version === undefined ? {} : { version: extra.version }),
    ...extra.params,
  }).toString();
  return parseSecretRef(`gcp-sm://${locator}${query === '' ? '' : `?${query}`}`, [gcpSmStore]);
}

describe('gcp-sm locators', () => {
  it.each([
    ['acme-prod/openai-key', {}, 'projects/acme-prod/secrets/openai-key', 'latest', false],
    ['acme-prod/openai-key', { version: '7' }, 'projects/acme-prod/secrets/openai-key', '7', true],
    [
      'acme-prod/openai-key',
      { version: 'latest' },
      'projects/acme-prod/secrets/openai-key',
      'latest',
      false,
    ],
    [
      'projects/acme-prod/secrets/db_Pass-1',
      {},
      'projects/acme-prod/secrets/db_Pass-1',
      'latest',
      false,
    ],
    ['projects/acme-prod/secrets/db/versions/3', {}, 'projects/acme-prod/secrets/db', '3', true],
    [
      'projects/acme-prod/secrets/db/versions/3',
      { version: '3' },
      'projects/acme-prod/secrets/db',
      '3',
      true,
    ],
    ['projects/123456789012/secrets/db', {}, 'projects/123456789012/secrets/db', 'latest', false],
    [
      'example.com:legacy-proj/db',
      {},
      'projects/example.com:legacy-proj/secrets/db',
      'latest',
      false,
    ],
    [
      'projects/acme-prod/locations/europe-west1/secrets/db/versions/latest',
      {},
      'projects/acme-prod/locations/europe-west1/secrets/db',
      'latest',
      false,
    ],
    [
      'acme-prod/db',
      { params: { location: 'europe-west1' } },
      'projects/acme-prod/locations/europe-west1/secrets/db',
      'latest',
      false,
    ],
  ] as const)('canonicalizes %s %j', (locator, extra, canonical, version, pinned) => {
    const result = canonicalizeGcpRef(ref(locator, extra), ALLOWED);
    expect(result.locator).toBe(canonical);
    expect(result.pinned).toBe(pinned);
    expect(result.version).toBe(pinned ? version : undefined);
    expect(result.details['versionName']).toBe(`${canonical}/versions/${version}`);
  });

  it('gives the short and the full form of one secret the same canonical locator', () => {
    const short = canonicalizeGcpRef(ref('acme-prod/db', { version: '2' }), ALLOWED);
    const full = canonicalizeGcpRef(ref('projects/acme-prod/secrets/db/versions/2'), ALLOWED);
    expect(full).toEqual(short);
  });

  it('routes a regional secret to its location and a global one to the global endpoint', () => {
    expect(canonicalizeGcpRef(ref('acme-prod/db'), ALLOWED).details['location']).toBe('');
    const regional = canonicalizeGcpRef(
      ref('acme-prod/db', { params: { location: 'us-east4' } }),
      ALLOWED,
    );
    expect(regional.details['location']).toBe('us-east4');
  });

  it.each([
    ['acme-prod', {}, 'neither'],
    ['acme-prod/db/extra', {}, 'neither'],
    ['projects/acme-prod/db', {}, 'neither'],
    ['acme-prod/bad.name', {}, 'secret id'],
    ['Acme/db', {}, 'project'],
    ['acme-prod/db', { version: '0' }, 'positive integer'],
    ['acme-prod/db', { version: 'AWSCURRENT' }, 'positive integer'],
    ['projects/acme-prod/secrets/db/versions/2', { version: '3' }, 'disagree'],
    [
      'projects/acme-prod/locations/us-east4/secrets/db',
      { params: { location: 'eu-west1' } },
      'disagree',
    ],
    ['acme-prod/db', { params: { location: 'EU WEST' } }, 'region name'],
  ] as const)('refuses %s %j with SECRET_INVALID_REF', (locator, extra, problem) => {
    let caught: unknown;
    try {
      canonicalizeGcpRef(ref(locator, extra), ALLOWED);
    } catch (error) {
      caught = error;
    }
    expect(isPerimeterError(caught, 'SECRET_INVALID_REF')).toBe(true);
    expect((caught as Error).message).toContain(problem);
    expect((caught as Error).message).toContain('gcp-sm://<project>/<secret>');
  });

  it('refuses a project outside allowedProjects before any call, naming the setting', () => {
    expect(() => canonicalizeGcpRef(ref('other-project/db'), ALLOWED)).toThrow(
      expect.objectContaining({
        code: 'SECRET_REF_DENIED',
        message: containing('allowedProjects'),
      }),
    );
  });
});

describe('crc32c', () => {
  it('matches the Castagnoli check values (RFC 3720 appendix B.4)', () => {
    expect(crc32c(Buffer.from('123456789'))).toBe(0xe3069283);
    expect(crc32c(Buffer.alloc(0))).toBe(0);
    expect(crc32c(Buffer.alloc(32, 0))).toBe(0x8a9136aa);
    expect(crc32c(Buffer.alloc(32, 0xff))).toBe(0x62a8ab43);
    expect(crc32c(Buffer.from(Array.from({ length: 32 }, (_, index) => index)))).toBe(0x46dd794e);
  });
});

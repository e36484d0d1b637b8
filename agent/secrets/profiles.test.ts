import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineSecretStore } from '../plugin-api/index.ts';
import type { SecretStoreDefinition } from '../plugin-api/index.ts';
import { envStore } from '../../secrets/env/index.ts';
import { fileStore } from '../../secrets/file/index.ts';
import { buildSecretStoresSchema, resolveProfiles } from './profiles.ts';
import { SecretsSettingsSchema } from './settings.ts';

const vaultLike = defineSecretStore({
  scheme: 'vault',
  params: ['mount'],
  profileSchema: z
    .strictObject({
      address: z.string().describe('Vault address'),
      role: z.string().optional().describe('Role'),
    })
    .superRefine((profile, context) => {
      if (profile.address.startsWith('http:')) {
        context.addIssue({ code: 'custom', path: ['address'], message: 'must be https' });
      }
    }),
  create: () => {
    throw new Error('not used');
  },
});

const localStores: readonly SecretStoreDefinition[] = [envStore, fileStore];
const stores: readonly SecretStoreDefinition[] = [...localStores, vaultLike];
const schema = buildSecretStoresSchema(stores);

function issues(input: unknown): string[] {
  const result = schema.safeParse(input);
  return result.success
    ? []
    : result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
}

describe('buildSecretStoresSchema', () => {
  it('parses profiles of every registered type with their own settings', () => {
    const profiles = schema.parse({
      vault: { type: 'vault', allow: ['secret/apps/**'], address: 'https://vault:8200' },
      'team-b': {
        type: 'vault',
        allow: ['kv/b/*'],
        address: 'https://vault-b:8200',
        maxAgeSeconds: 60,
      },
      file: { type: 'file', allow: ['/mnt/secrets/**'] },
    });
    expect(profiles['team-b']).toEqual({
      type: 'vault',
      allow: ['kv/b/*'],
      address: 'https://vault-b:8200',
      maxAgeSeconds: 60,
    });
    expect(profiles['file']).toEqual({
      type: 'file',
      allow: ['/mnt/secrets/**'],
      trimTrailingNewline: true,
    });
  });

  it.each([
    [{ Prod: { type: 'env', allow: ['**'] } }, /profile names are lower-case/],
    [{ env: { type: 'env' } }, /^env\.allow: /],
    [{ env: { type: 'env', allow: [] } }, /env\.allow: list at least one glob/],
    [{ env: { type: 'env', allow: ['a/***'] } }, /env\.allow\.0: invalid glob/],
    [{ env: { type: 'env', allow: ['**'], colour: 'blue' } }, /colour/],
    [{ x: { type: 'nope', allow: ['**'] } }, /^x\.type: /],
    [{ vault: { type: 'vault', allow: ['**'] } }, /vault\.address/],
    [
      { vault: { type: 'vault', allow: ['**'], address: 'http://vault' } },
      /vault\.address: must be https/,
    ],
    [
      { env: { type: 'file', allow: ['/x/**'] } },
      /env\.type: the profile named "env" is the default profile of env:\/\/ references/,
    ],
    [{ env: { type: 'env', allow: ['**'], maxAgeSeconds: 5 } }, /env\.maxAgeSeconds/],
  ])('reports %j with the key path', (input, expected) => {
    expect(issues(input).join('\n')).toMatch(expected);
  });

  it('refuses two stores of one scheme', () => {
    expect(() => buildSecretStoresSchema([...stores, vaultLike])).toThrow(
      'Two secret stores have the scheme "vault"',
    );
  });

  it('describes every key it adds', () => {
    const envProfile = schema.safeParse({ e: { type: 'env', allow: ['**'] } });
    expect(envProfile.success).toBe(true);
    const json = JSON.stringify(z.toJSONSchema(schema, { io: 'input' }));
    for (const text of [
      'The store this profile connects to',
      'Globs over canonical locators',
      'Soft cache TTL',
    ]) {
      expect(json).toContain(text);
    }
  });
});

describe('resolveProfiles', () => {
  it('adds the implicit env and file profiles when they are not configured', () => {
    const profiles = resolveProfiles({}, localStores);
    expect([...profiles.keys()]).toEqual(['env', 'file']);
    expect(profiles.get('env')).toMatchObject({
      implicit: true,
      settings: { type: 'env', allow: ['**'] },
    });
    const file = profiles.get('file');
    expect(file?.allow.map((glob) => glob.pattern)).toEqual([
      '/var/run/secrets/**',
      '/etc/perimeter/secrets/**',
      '/run/secrets/**',
    ]);
    expect(file?.settings).toMatchObject({ trimTrailingNewline: true });
  });

  it('lets a configured default profile replace the implicit one', () => {
    const profiles = resolveProfiles(
      { file: { type: 'file', allow: ['/mnt/**'], trimTrailingNewline: false } },
      localStores,
    );
    expect(profiles.get('file')).toMatchObject({
      implicit: false,
      settings: { trimTrailingNewline: false },
    });
    expect(profiles.get('file')?.allow.map((glob) => glob.pattern)).toEqual(['/mnt/**']);
  });

  it('refuses a profile whose store is not registered', () => {
    expect(() => resolveProfiles({ x: { type: 'nope', allow: ['**'] } }, localStores)).toThrow(
      /secretStores\.x\.type names no registered store/,
    );
  });
});

describe('SecretsSettingsSchema', () => {
  it('defaults every key', () => {
    expect(SecretsSettingsSchema.parse({})).toEqual({
      softTtlSeconds: 300,
      hardTtlSeconds: 3600,
      pinnedTtlSeconds: 86_400,
      negativeTtlSeconds: 30,
      maxEntries: 1024,
      fetchTimeoutMs: 15_000,
      maxAttempts: 3,
      retryBaseDelayMs: 200,
      retryMaxDelayMs: 10_000,
      requestsPerSecond: 50,
    });
  });

  it('refuses a hard TTL shorter than the soft TTL, naming the key', () => {
    const result = SecretsSettingsSchema.safeParse({ softTtlSeconds: 600, hardTtlSeconds: 300 });
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]).toMatchObject({
      path: ['hardTtlSeconds'],
      message: 'must be at least softTtlSeconds (600)',
    });
  });

  it('refuses a soft TTL outside 30 s to 1 h', () => {
    expect(SecretsSettingsSchema.safeParse({ softTtlSeconds: 10 }).success).toBe(false);
    expect(SecretsSettingsSchema.safeParse({ softTtlSeconds: 7200 }).success).toBe(false);
  });
});

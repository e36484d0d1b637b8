import { describe, expect, it } from 'vitest';
import { isPerimeterError } from '../../agent/plugin-api/index.ts';
import type { CanonicalSecretRef } from '../../agent/plugin-api/index.ts';
import { buildSecretStoresSchema } from '../../agent/secrets/profiles.ts';
import { parseSecretRef } from '../../agent/secrets/ref.ts';
import { azureKeyVaultStore } from './index.ts';
import { canonicalizeAzureRef } from './locator.ts';
import { AzureKvProfileSchema } from './profile.ts';

const VERSION = '4387e9f3d6e14c459867679a90fd0f79';
const AUTH = { type: 'workloadIdentity' } as const;
const PROFILE = {
  allowedVaults: ['contoso-prod', 'Contoso.Vault.Azure.CN'],
  endpoints: { 'contoso-prod': 'https://10.0.0.7:8443/' },
  auth: AUTH,
};

function canonical(text: string): CanonicalSecretRef {
  return canonicalizeAzureRef(
    parseSecretRef(text, [azureKeyVaultStore]),
    AzureKvProfileSchema.parse(PROFILE),
  );
}

function failure(text: string): { code: string; message: string } {
  try {
    canonical(text);
  } catch (error) {
    if (isPerimeterError(error)) {
      return { code: error.code, message: error.message };
    }
    throw error;
  }
  throw new Error(`${text} was accepted`);
}

describe('azure-kv locators', () => {
  it.each([
    [
      'azure-kv://contoso-prod/db-password',
      'contoso-prod.vault.azure.net/db-password',
      undefined,
      { vaultUrl: 'https://10.0.0.7:8443', secretName: 'db-password' },
    ],
    [
      'azure-kv://Contoso-Prod/DB-Password',
      'contoso-prod.vault.azure.net/db-password',
      undefined,
      { secretName: 'db-password' },
    ],
    [
      'azure-kv://contoso-prod.vault.azure.net/db',
      'contoso-prod.vault.azure.net/db',
      undefined,
      { vaultUrl: 'https://10.0.0.7:8443' },
    ],
    [
      'azure-kv://contoso.vault.azure.cn/db',
      'contoso.vault.azure.cn/db',
      undefined,
      { vaultUrl: 'https://contoso.vault.azure.cn' },
    ],
    [
      `azure-kv://contoso-prod/db/${VERSION}`,
      'contoso-prod.vault.azure.net/db',
      VERSION,
      { version: VERSION },
    ],
    [
      `azure-kv://contoso-prod/db?version=${VERSION.toUpperCase()}`,
      'contoso-prod.vault.azure.net/db',
      VERSION,
      { version: VERSION },
    ],
    [
      `azure-kv://contoso-prod/db/${VERSION}?version=${VERSION}`,
      'contoso-prod.vault.azure.net/db',
      VERSION,
      { version: VERSION },
    ],
  ])('canonicalizes %s', (text, locator, version, details) => {
    const ref = canonical(text);
    expect(ref.locator).toBe(locator);
    expect(ref.version).toBe(version);
    expect(ref.pinned).toBe(version !== undefined);
    expect(ref.details).toMatchObject(details);
  });

  it.each([
    ['azure-kv://contoso-prod', /wrong number of segments/],
    ['azure-kv://contoso-prod/a/b/c', /wrong number of segments/],
    ['azure-kv://c/db', /neither a vault name nor a vault host name/],
    ['azure-kv://contoso--prod/db', /neither a vault name/],
    ['azure-kv://contoso-prod/db_password', /not a Key Vault secret name/],
    ['azure-kv://contoso-prod/db/latest', /not a version id/],
    [`azure-kv://contoso-prod/db?version=${VERSION.slice(1)}`, /not a version id/],
    [`azure-kv://contoso-prod/db/${VERSION}?version=${'0'.repeat(32)}`, /differ; give one/],
  ])('refuses %s with the expected form', (text, problem) => {
    const { code, message } = failure(text);
    expect(code).toBe('SECRET_INVALID_REF');
    expect(message).toMatch(problem);
    expect(message).toContain('azure-kv://<vault>/<secret>');
  });

  it('refuses a vault outside allowedVaults before any call, naming the setting', () => {
    for (const text of [
      'azure-kv://attacker/db',
      'azure-kv://contoso-prod.vault.attacker.net/db',
      'azure-kv://contoso.vault.azure.net/db',
    ]) {
      const { code, message } = failure(text);
      expect(code).toBe('SECRET_REF_DENIED');
      expect(message).toContain('secretStores.azure-kv.allowedVaults');
    }
  });
});

describe('azure-kv profile schema', () => {
  it('refuses an endpoint override for a vault that is not allowed', () => {
    const result = AzureKvProfileSchema.safeParse({
      ...PROFILE,
      endpoints: { other: 'https://127.0.0.1:1' },
    });
    expect(result.error?.issues[0]?.path).toEqual(['endpoints', 'other']);
  });

  it('refuses a literal client secret, a plain-http authority and an ambiguous managed identity', () => {
    const literal = AzureKvProfileSchema.safeParse({
      ...PROFILE,
      auth: {
        type: 'clientSecret',
        tenantId: 'contoso.onmicrosoft.com',
        clientId: '0e4a9b1c-5d6f-4a7b-8c9d-0e1f2a3b4c5d',
        clientSecret: 'Qx8Q~abc',
      },
    });
    expect(literal.error?.issues[0]?.message).toContain('never a literal credential');
    expect(
      AzureKvProfileSchema.safeParse({ ...PROFILE, authorityHost: 'http://127.0.0.1:1' }).success,
    ).toBe(false);
    const both = AzureKvProfileSchema.safeParse({
      ...PROFILE,
      auth: {
        type: 'managedIdentity',
        clientId: '0e4a9b1c-5d6f-4a7b-8c9d-0e1f2a3b4c5d',
        resourceId: '/subscriptions/x',
      },
    });
    expect(both.error?.issues[0]?.message).toContain('not both');
  });

  it('describes every key', () => {
    for (const [key, schema] of Object.entries(AzureKvProfileSchema.shape)) {
      expect(schema.description, key).toBeTruthy();
    }
  });

  it('plugs into the secretStores section of the agent config, with type and allow', () => {
    const schema = buildSecretStoresSchema([azureKeyVaultStore]);
    const parsed = schema.safeParse({
      vaults: { type: 'azure-kv', allow: ['contoso-prod.vault.azure.net/*'], ...PROFILE },
    });
    expect(parsed.error).toBeUndefined();
    const bad = schema.safeParse({
      vaults: { type: 'azure-kv', allow: ['*'], ...PROFILE, endpoints: { other: 'https://x' } },
    });
    expect(bad.error?.issues[0]?.path).toEqual(['vaults', 'endpoints', 'other']);
  });
});

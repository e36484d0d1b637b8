import { describe, expect, it } from 'vitest';
import { SecretValue } from '../../agent/plugin-api/index.ts';
import { CyeraConfigSchema, CyeraParamsSchema } from './config.ts';

const credentials = {
  clientId: new SecretValue('id-value'),
  secret: new SecretValue('s3cr3t-value'),
};

describe('CyeraConfigSchema', () => {
  it('defaults to api.cyera.io, names the tenant after the host and caps page sizes', () => {
    const config = CyeraConfigSchema.parse({ credentials });
    expect(config.baseUrl).toBe('https://api.cyera.io');
    expect(config.tenant).toBe('api.cyera.io');
    expect(config.pageSizes).toEqual({ datastores: 1000, issues: 100, identities: 100 });
    expect(config.stream.maxRetries).toBe(5);
  });

  it('derives the tenant from a regional host and keeps an explicit one', () => {
    const eu = CyeraConfigSchema.parse({ baseUrl: 'https://api-eu.cyera.io/', credentials });
    expect(eu).toMatchObject({ baseUrl: 'https://api-eu.cyera.io', tenant: 'api-eu.cyera.io' });
    const named = CyeraConfigSchema.parse({ tenant: 'acme-prod', credentials });
    expect(named.tenant).toBe('acme-prod');
  });

  it('refuses plain http except towards a loopback simulator', () => {
    const remote = CyeraConfigSchema.safeParse({ baseUrl: 'http://api.cyera.io', credentials });
    expect(remote.success).toBe(false);
    expect(remote.error?.issues[0]).toMatchObject({ path: ['baseUrl'] });
    expect(remote.error?.issues[0]?.message).toContain('must use https');
    const local = CyeraConfigSchema.safeParse({ baseUrl: 'http://127.0.0.1:8080', credentials });
    expect(local.success).toBe(true);
  });

  it('names every bad key: literal credentials, a page size above the cap, a path in baseUrl', () => {
    const result = CyeraConfigSchema.safeParse({
      baseUrl: 'https://api.cyera.io/v1',
      credentials: { clientId: 'literal-id', secret: 'literal-secret' },
      pageSizes: { issues: 1000 },
    });
    const paths = result.error?.issues.map((issue) => issue.path.join('.')) ?? [];
    expect(paths).toEqual(
      expect.arrayContaining(['credentials.clientId', 'credentials.secret', 'pageSizes.issues']),
    );
    expect(JSON.stringify(result.error?.issues)).not.toContain('literal-secret');
  });

  it('refuses unknown keys and a tenant that would break qualified names', () => {
    expect(CyeraConfigSchema.safeParse({ credentials, region: 'eu' }).success).toBe(false);
    expect(CyeraConfigSchema.safeParse({ credentials, tenant: 'a/b' }).success).toBe(false);
  });
});

describe('CyeraParamsSchema', () => {
  it('selects every datastore when params are empty', () => {
    expect(CyeraParamsSchema.parse(undefined)).toEqual({ datastoreUids: [] });
    expect(CyeraParamsSchema.parse({})).toEqual({ datastoreUids: [] });
  });

  it('accepts a selection and filters and refuses unknown keys', () => {
    const params = CyeraParamsSchema.parse({
      datastoreUids: ['0198a421-92f3-4e89-bb2a-6d5b1229c1ef'],
      provider: 'Snowflake',
      namePattern: 'prod-*',
    });
    expect(params.provider).toBe('Snowflake');
    expect(CyeraParamsSchema.safeParse({ datastores: [] }).success).toBe(false);
  });
});

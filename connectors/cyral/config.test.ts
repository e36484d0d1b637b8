import { describe, expect, it } from 'vitest';
import { SecretValue } from '../../agent/plugin-api/index.ts';
import { CyralConfigSchema, CyralParamsSchema } from './config.ts';
import { connector } from './index.ts';

const credentials = { clientId: new SecretValue('id'), clientSecret: new SecretValue('secret') };

describe('cyral config', () => {
  it('keeps the API port of older control planes and names the tenant after the host', () => {
    const config = CyralConfigSchema.parse({
      baseUrl: 'https://acme.cyral.com:8000/',
      credentials,
    });
    expect(config).toMatchObject({
      baseUrl: 'https://acme.cyral.com:8000',
      tenant: 'acme.cyral.com',
      clientIdField: 'client_id',
      bindingsPageSize: 100,
    });
    expect(connector.endpoints(config)).toEqual([
      { role: 'api', url: 'https://acme.cyral.com:8000' },
    ]);
  });

  it('drops the default https port of current control planes', () => {
    const config = CyralConfigSchema.parse({
      baseUrl: 'https://acme.app.cyral.com:443',
      credentials,
    });
    expect(config.baseUrl).toBe('https://acme.app.cyral.com');
  });

  it('refuses plain http off loopback, a path, a literal secret and an unknown key, at once', () => {
    const result = CyralConfigSchema.safeParse({
      baseUrl: 'http://acme.cyral.com/api',
      credentials: { clientId: 'literal', clientSecret: credentials.clientSecret },
      pageSize: 10,
    });
    expect(result.success).toBe(false);
    const paths = result.error?.issues.map((issue) => issue.path.join('.'));
    expect(paths).toEqual(expect.arrayContaining(['baseUrl', 'credentials.clientId', '']));
    expect(result.error?.issues.filter((issue) => issue.path[0] === 'baseUrl')).toHaveLength(2);
  });

  it('accepts the older spelling of the client id fields and bounds the page size', () => {
    const base = { baseUrl: 'http://127.0.0.1:8000', credentials };
    expect(CyralConfigSchema.parse({ ...base, clientIdField: 'clientId' }).clientIdField).toBe(
      'clientId',
    );
    expect(CyralConfigSchema.safeParse({ ...base, bindingsPageSize: 0 }).success).toBe(false);
    expect(CyralConfigSchema.safeParse({ ...base, bindingsPageSize: 101 }).success).toBe(false);
  });

  it('selects everything when the params are absent', () => {
    expect(CyralParamsSchema.parse(undefined)).toEqual({ repositoryIds: [], sidecarIds: [] });
  });
});

import { describe, expect, it } from 'vitest';
import { SecretValue } from '../../agent/plugin-api/index.ts';
import { connector } from './index.ts';
import { AnaplanConfigSchema } from './config.ts';

const basic = { user: new SecretValue('u@example.com'), password: new SecretValue('pw-value') };

describe('AnaplanConfigSchema', () => {
  it('defaults to the global hosts, Basic auth, v2 signing and 5,000 per page', () => {
    const config = AnaplanConfigSchema.parse({ credentials: basic });
    expect(config).toMatchObject({
      authUrl: 'https://auth.anaplan.com',
      apiUrl: 'https://api.anaplan.com',
      tenant: 'api.anaplan.com',
      authMode: 'basic',
      encodedDataFormat: 'v2',
      pageSize: 5000,
    });
  });

  it('declares the auth host and the API host as the connection endpoints, regional ones too', () => {
    const config = AnaplanConfigSchema.parse({
      authUrl: 'https://eu3.auth.anaplan.com/',
      apiUrl: 'https://eu3.api.anaplan.com',
      credentials: basic,
    });
    expect(connector.endpoints(config)).toEqual([
      { role: 'auth', url: 'https://eu3.auth.anaplan.com' },
      { role: 'api', url: 'https://eu3.api.anaplan.com' },
    ]);
  });

  it('requires the credentials of the chosen auth mode, naming each missing key', () => {
    const result = AnaplanConfigSchema.safeParse({ authMode: 'certificate', credentials: basic });
    expect(result.success).toBe(false);
    expect(result.error?.issues.map((issue) => issue.path.join('.'))).toEqual([
      'credentials.certificate',
      'credentials.privateKey',
    ]);
  });

  it('refuses literal credentials, plain http to a remote host and a page size above 5,000', () => {
    const result = AnaplanConfigSchema.safeParse({
      apiUrl: 'http://api.anaplan.com',
      credentials: { user: 'literal', password: 'literal-password' },
      pageSize: 10_000,
    });
    const paths = result.error?.issues.map((issue) => issue.path.join('.'));
    expect(paths).toEqual(
      expect.arrayContaining(['apiUrl', 'credentials.user', 'credentials.password', 'pageSize']),
    );
    expect(JSON.stringify(result.error?.issues)).not.toContain('literal-password');
  });
});

import { describe, expect, it } from 'vitest';
import { isPerimeterError } from '../plugin-api/index.ts';
import type { HttpMethod } from '../plugin-api/index.ts';
import {
  assertDestination,
  describeHostPatternProblem,
  isCallAllowed,
  isHostAllowed,
} from './policy.ts';
import type { DestinationPolicy } from './types.ts';

describe('isHostAllowed', () => {
  const cases: [pattern: string, url: string, allowed: boolean][] = [
    ['api.cyera.io', 'https://api.cyera.io/v1', true],
    ['api.cyera.io', 'https://API.Cyera.IO/v1', true],
    ['API.CYERA.IO', 'https://api.cyera.io/v1', true],
    ['api.cyera.io', 'https://api.cyera.io:443/v1', true],
    ['api.cyera.io', 'http://api.cyera.io/v1', true],
    ['api.cyera.io', 'https://api.cyera.io:8443/v1', false],
    ['api.cyera.io', 'https://api.cyera.io./v1', true],
    ['api.cyera.io', 'https://eu.api.cyera.io/v1', false],
    ['api.cyera.io', 'https://api.cyera.io.evil.com/v1', false],
    ['api.cyera.io', 'https://evilapi.cyera.io/v1', false],
    ['api.cyera.io:8443', 'https://api.cyera.io:8443/', true],
    ['api.cyera.io:8443', 'https://api.cyera.io/', false],
    ['127.0.0.1:*', 'http://127.0.0.1:39211/', true],
    ['127.0.0.1:*', 'https://127.0.0.1/', true],
    ['127.0.0.1:*', 'http://127.0.0.2:39211/', false],
    ['*.cyera.io', 'https://eu.cyera.io/', true],
    ['*.cyera.io', 'https://a.b.cyera.io/', true],
    ['*.cyera.io', 'https://cyera.io/', false],
    ['*.cyera.io', 'https://notcyera.io/', false],
    ['*.cyera.io', 'https://eu.cyera.io:8443/', false],
    ['*.cyera.io:*', 'https://eu.cyera.io:8443/', true],
    ['[::1]:8443', 'https://[::1]:8443/', true],
    ['[0:0::1]:8443', 'https://[::1]:8443/', true],
    ['[::1]', 'https://[::1]/', true],
    ['[::1]', 'https://[::1]:8443/', false],
    ['[::1]:*', 'http://[::1]:1234/', true],
    ['::1', 'https://[::1]/', false],
    ['*', 'https://api.cyera.io/', false],
    ['api.*.io', 'https://api.cyera.io/', false],
    ['api.cyera.io/v1', 'https://api.cyera.io/v1', false],
    ['user@api.cyera.io', 'https://api.cyera.io/', false],
  ];

  it.each(cases)('matches pattern %s against %s as %s', (pattern, url, allowed) => {
    expect(isHostAllowed([pattern], new URL(url))).toBe(allowed);
  });

  it('matches when any pattern of the set matches', () => {
    const hosts = ['auth.anaplan.com', 'api.anaplan.com', '*.eu1.anaplan.com'];
    expect(isHostAllowed(hosts, new URL('https://api.anaplan.com/2/0/workspaces'))).toBe(true);
    expect(isHostAllowed(hosts, new URL('https://x.eu1.anaplan.com/'))).toBe(true);
    expect(isHostAllowed(hosts, new URL('https://anaplan.com/'))).toBe(false);
    expect(isHostAllowed([], new URL('https://api.anaplan.com/'))).toBe(false);
  });
});

describe('describeHostPatternProblem', () => {
  it('accepts every documented pattern form', () => {
    for (const pattern of [
      'api.cyera.io',
      'api.cyera.io:8443',
      '127.0.0.1:*',
      '*.cyera.io',
      '[::1]:443',
    ]) {
      expect(describeHostPatternProblem(pattern)).toBeUndefined();
    }
  });

  it('explains malformed patterns', () => {
    expect(describeHostPatternProblem('api.cyera.io:99999')).toMatch(/port/);
    expect(describeHostPatternProblem('api.*.io')).toMatch(/subdomains/);
    expect(describeHostPatternProblem('::1')).toMatch(/IPv6/);
    expect(describeHostPatternProblem('a b')).toMatch(/not a host/);
  });
});

describe('isCallAllowed', () => {
  const policy: DestinationPolicy = {
    allowedHosts: ['api.cyera.io'],
    allowedCalls: [
      { method: 'POST', path: '/v1/login' },
      { method: 'POST', path: '/v1/runs/*/events' },
      { method: 'PUT', path: '/v1/**' },
    ],
  };
  const cases: [method: HttpMethod, path: string, allowed: boolean][] = [
    ['GET', '/anything', true],
    ['HEAD', '/anything', true],
    ['POST', '/v1/login', true],
    ['POST', '/v1/login/', false],
    ['POST', '/v1/login/extra', false],
    ['POST', '/v2/login', false],
    ['DELETE', '/v1/login', false],
    ['POST', '/v1/runs/r-1/events', true],
    ['POST', '/v1/runs//events', false],
    ['POST', '/v1/runs/r-1/x/events', false],
    ['PUT', '/v1/a/b/c', true],
    ['PUT', '/v1/a', true],
    ['PUT', '/v1/', false],
    ['PUT', '/v1', false],
    ['PUT', '/v2/a', false],
    ['POST', '/v1/%2e%2e/admin', false],
  ];

  it.each(cases)('decides %s %s as %s', (method, path, allowed) => {
    expect(isCallAllowed(policy, method, new URL(`https://api.cyera.io${path}`))).toBe(allowed);
  });

  it('resolves dot segments before matching, so /v1/login/../admin is not a login', () => {
    const url = new URL('https://api.cyera.io/v1/login/../admin');
    expect(isCallAllowed(policy, 'POST', url)).toBe(false);
  });
});

describe('isCallAllowed with declared read paths', () => {
  const policy: DestinationPolicy = {
    allowedHosts: ['api.anaplan.com'],
    allowedCalls: [],
    allowedReads: ['/2/0/workspaces', '/2/0/workspaces/*/models/*/lists/*'],
  };
  const cases: [method: HttpMethod, path: string, allowed: boolean][] = [
    ['GET', '/2/0/workspaces', true],
    ['GET', '/2/0/workspaces/w1/models/M1/lists/101000000001', true],
    ['GET', '/2/0/workspaces/w1/models/M1/lists/101000000001/items', false],
    ['GET', '/2/0/models/M1/views/102000000001/data', false],
    ['GET', '/2/0/workspaces/w1', false],
    ['HEAD', '/', true],
    ['POST', '/2/0/workspaces', false],
  ];

  it.each(cases)('decides %s %s as %s', (method, path, allowed) => {
    expect(isCallAllowed(policy, method, new URL(`https://api.anaplan.com${path}`))).toBe(allowed);
  });

  it('refuses an undeclared GET with POLICY_DENIED naming the path, before any socket opens', () => {
    const error = (() => {
      try {
        assertDestination(policy, {
          method: 'GET',
          url: new URL('https://api.anaplan.com/2/0/models/M1/views/V1/data'),
          endpoint: 'GET /views/{id}/data',
          domain: 'source',
        });
      } catch (caught) {
        return caught;
      }
      return undefined;
    })();
    expect(isPerimeterError(error, 'POLICY_DENIED')).toBe(true);
    expect((error as Error).message).toContain('not among the paths the connector declares');
  });
});

describe('assertDestination', () => {
  const policy: DestinationPolicy = { allowedHosts: ['api.cyera.io'], allowedCalls: [] };
  const refusal = (url: string, method: HttpMethod = 'GET'): unknown => {
    try {
      assertDestination(policy, {
        method,
        url: new URL(url),
        endpoint: 'GET /x',
        domain: 'source',
      });
    } catch (error) {
      return error;
    }
    return undefined;
  };

  it('names the host and the allowHosts key when the host is outside the set', () => {
    const error = refusal('https://evil.example.com/x?token=abc123');
    expect(isPerimeterError(error, 'POLICY_DENIED')).toBe(true);
    expect((error as Error).message).toContain('evil.example.com');
    expect((error as Error).message).toContain('policy.connectors.<name>.allowHosts');
    expect((error as Error).message).not.toContain('abc123');
  });

  it('refuses schemes other than http and https', () => {
    expect(isPerimeterError(refusal('file:///etc/passwd'), 'POLICY_DENIED')).toBe(true);
    expect(isPerimeterError(refusal('ftp://api.cyera.io/x'), 'POLICY_DENIED')).toBe(true);
  });

  it('refuses a URL that embeds credentials', () => {
    expect(isPerimeterError(refusal('https://u:p@api.cyera.io/x'), 'POLICY_DENIED')).toBe(true);
  });

  it('refuses a write the policy does not declare', () => {
    const error = refusal('https://api.cyera.io/v1/datastores', 'DELETE');
    expect(isPerimeterError(error, 'POLICY_DENIED')).toBe(true);
    expect((error as Error).message).toContain('not a declared call');
  });

  it('lets a read to an allowed host through', () => {
    expect(refusal('https://api.cyera.io/v2/datastores')).toBeUndefined();
  });
});

import { describe, expect, it } from 'vitest';
import { fixtureConnector } from '../../test/fakes/fixture/connector.ts';
import { isPerimeterError } from '../plugin-api/index.ts';
import type { JsonObject } from '../plugin-api/index.ts';
import { prepareRun } from './prepare.ts';
import type { PrepareDeps } from './prepare.ts';
import { ConnectionsSchema, PolicySettingsSchema } from './settings.ts';
import type { RunSpec } from './types.ts';

const deps = (allowHosts: readonly string[]): PrepareDeps => ({
  config: {
    connections: ConnectionsSchema.parse({}),
    policy: PolicySettingsSchema.parse({ connectors: { fixture: { allowHosts } } }),
  },
  connectors: new Map([['fixture', fixtureConnector]]),
  checkRef: () => undefined,
});

const spec = (config: Record<string, unknown>): RunSpec => ({
  runId: 'prepare-test',
  operation: 'extract',
  params: {},
  origin: 'local',
  connection: { connector: 'fixture', config: config as JsonObject },
});

const twoHosts = {
  baseUrl: 'http://127.0.0.1:4001',
  authUrl: 'http://127.0.0.1:4002',
  credentials: { secret: 'env://FIXTURE_SECRET' },
};

function failure(prepare: () => unknown): { code: string; message: string } {
  try {
    prepare();
  } catch (error) {
    if (isPerimeterError(error)) {
      return { code: error.code, message: error.message };
    }
    throw error;
  }
  throw new Error('expected prepareRun to throw');
}

describe('prepareRun', () => {
  it('limits the run to the hosts of the endpoints its connection declares', () => {
    const prepared = prepareRun(spec(twoHosts), deps(['127.0.0.1:*', 'example.com']));
    expect(prepared.endpoints).toEqual([
      { role: 'api', url: 'http://127.0.0.1:4001' },
      { role: 'auth', url: 'http://127.0.0.1:4002' },
    ]);
    expect(prepared.policy.allowedHosts).toEqual(['127.0.0.1:4001', '127.0.0.1:4002']);
    expect(prepared.policy.allowedCalls).toEqual(fixtureConnector.authCalls);
    expect(prepared.credentialRefs).toEqual({ secret: 'env://FIXTURE_SECRET' });
  });

  it('refuses an endpoint outside the permitted hosts, naming its role, host and the setting', () => {
    const { code, message } = failure(() => prepareRun(spec(twoHosts), deps(['127.0.0.1:4001'])));
    expect(code).toBe('POLICY_DENIED');
    expect(message).toContain("the auth endpoint's host 127.0.0.1:4002");
    expect(message).toContain('policy.connectors.fixture.allowHosts');
    expect(message).not.toContain('api endpoint');
  });

  it('reads credential names from the connector: an undeclared one and a missing one are problems', () => {
    const undeclared = failure(() =>
      prepareRun(
        spec({ ...twoHosts, credentials: { secret: 'env://A', apiKey: 'env://B' } }),
        deps(['127.0.0.1:*']),
      ),
    );
    expect(undeclared.code).toBe('JOB_INVALID');
    expect(undeclared.message).toContain(
      'connection.credentials.apiKey: fixture declares no credential of that name; its credentials are secret',
    );
    const missing = failure(() =>
      prepareRun(spec({ ...twoHosts, credentials: {} }), deps(['127.0.0.1:*'])),
    );
    expect(missing.message).toContain('connection.credentials.secret: missing;');
    expect(missing.message).toContain('1 problem:');
  });

  it('checks a configured connection once for all its runs, and an inline one every time', () => {
    const checkedRefs: string[] = [];
    const named: PrepareDeps = {
      ...deps(['127.0.0.1:*']),
      config: {
        connections: ConnectionsSchema.parse({ fx: { connector: 'fixture', ...twoHosts } }),
        policy: PolicySettingsSchema.parse({
          connectors: { fixture: { allowHosts: ['127.0.0.1:*'] } },
        }),
      },
      checkRef: (ref) => {
        checkedRefs.push(ref);
      },
    };
    const byId = (runId: string, params: JsonObject): RunSpec => ({
      runId,
      operation: 'extract',
      params,
      origin: 'controlPlane',
      connectionId: 'fx',
    });
    const first = prepareRun(byId('run-1', {}), named);
    const second = prepareRun(byId('run-2', {}), named);
    expect(second.policy).toEqual(first.policy);
    expect(checkedRefs).toEqual(['env://FIXTURE_SECRET']);
    // The params are the run's own: checked every time.
    expect(failure(() => prepareRun(byId('run-3', { unknown: 1 }), named)).code).toBe(
      'JOB_INVALID',
    );
    prepareRun({ ...spec(twoHosts), origin: 'local' }, named);
    prepareRun({ ...spec(twoHosts), origin: 'local' }, named);
    expect(checkedRefs).toHaveLength(3);
  });
});

describe('an inline connection with a rateLimit', () => {
  const budget = { requestsPerSecond: 50, burst: 60 };

  it('gives a local job file its own request budget, apart from the connector settings', () => {
    const prepared = prepareRun(spec({ ...twoHosts, rateLimit: budget }), deps(['127.0.0.1:*']));
    expect(prepared.rateLimit).toEqual(budget);
    expect(prepared.connectionKey).toBe(
      prepareRun(spec(twoHosts), deps(['127.0.0.1:*'])).connectionKey,
    );
  });

  it('refuses a malformed one with JOB_INVALID naming the key', () => {
    const { code, message } = failure(() =>
      prepareRun(
        spec({ ...twoHosts, rateLimit: { requestsPerSecond: -1 } }),
        deps(['127.0.0.1:*']),
      ),
    );
    expect(code).toBe('JOB_INVALID');
    expect(message).toContain('connection.rateLimit');
  });

  it('refuses one from the control plane: the budget is the operator’s to set', () => {
    const { code, message } = failure(() =>
      prepareRun(
        { ...spec({ ...twoHosts, rateLimit: budget }), origin: 'controlPlane' },
        {
          ...deps(['127.0.0.1:*']),
          config: {
            connections: ConnectionsSchema.parse({}),
            policy: PolicySettingsSchema.parse({
              allowInlineConnections: true,
              connectors: { fixture: { allowHosts: ['127.0.0.1:*'] } },
            }),
          },
        },
      ),
    );
    expect(code).toBe('POLICY_DENIED');
    expect(message).toContain('rateLimit');
  });
});

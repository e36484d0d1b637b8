import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { makeCanary } from '../../test/helpers/canary.ts';
import { isPerimeterError } from '../plugin-api/index.ts';
import { closedAfterEach, rejectionOf, sendJson } from '../../test/helpers/loopback.ts';
import type { Handler } from '../../test/helpers/loopback.ts';

const { server, client } = closedAfterEach();

const signal = (): AbortSignal => AbortSignal.timeout(10_000);
const ok = (): Handler => (_request, response) => {
  sendJson(response, 200, { ok: true });
};

describe('destination policy', () => {
  it('refuses a host outside the set before any TCP connection reaches it', async () => {
    const allowed = await server(ok());
    const outside = await server(ok());
    const { client: http } = client({ allowedHosts: [allowed.hostPattern] });
    const error = await rejectionOf(
      http.request({ method: 'GET', url: `${outside.origin}/x`, signal: signal() }),
    );
    expect(isPerimeterError(error, 'POLICY_DENIED')).toBe(true);
    expect(error['context']).toMatchObject({
      host: outside.hostPattern,
      method: 'GET',
      endpoint: 'GET /x',
    });
    expect(outside.connections()).toBe(0);
  });

  it('refuses a redirect to a disallowed host before connecting there', async () => {
    const outside = await server(ok());
    const redirecting = await server((_request, response) => {
      response.writeHead(302, { location: `${outside.origin}/steal` }).end();
    });
    const { client: http } = client({ allowedHosts: [redirecting.hostPattern] });
    const error = await rejectionOf(
      http.request({ method: 'GET', url: `${redirecting.origin}/start`, signal: signal() }),
    );
    expect(isPerimeterError(error, 'POLICY_DENIED')).toBe(true);
    expect(redirecting.requests).toHaveLength(1);
    expect(outside.connections()).toBe(0);
  });

  it('refuses a POST the connector did not declare', async () => {
    const target = await server(ok());
    const { client: http } = client({ allowedHosts: [target.hostPattern] });
    const error = await rejectionOf(
      http.request({
        method: 'POST',
        url: `${target.origin}/v1/datastores`,
        json: {},
        signal: signal(),
      }),
    );
    expect(isPerimeterError(error, 'POLICY_DENIED')).toBe(true);
    expect(target.connections()).toBe(0);
  });

  it('sends a declared auth POST with its JSON body', async () => {
    let received = '';
    const target = await server((request, response) => {
      request.setEncoding('utf8');
      request.on('data', (chunk: string) => (received += chunk));
      request.on('end', () => {
        sendJson(response, 200, { jwt: 'token-value' });
      });
    });
    const { client: http } = client({
      allowedHosts: [target.hostPattern],
      allowedCalls: [{ method: 'POST', path: '/v1/login' }],
    });
    const response = await http.request({
      method: 'POST',
      url: `${target.origin}/v1/login`,
      json: { clientId: 'id' },
      signal: signal(),
    });
    expect(await response.json(z.object({ jwt: z.string() }))).toEqual({ jwt: 'token-value' });
    expect(JSON.parse(received)).toEqual({ clientId: 'id' });
    expect(target.requests[0]?.headers['content-type']).toBe('application/json');
    expect(target.requests[0]?.headers['user-agent']).toBe('perimeter/test');
  });
});

describe('requests', () => {
  it('appends the query, repeating array keys and leaving undefined out', async () => {
    const target = await server(ok());
    const { client: http } = client({ allowedHosts: [target.hostPattern] });
    const response = await http.request({
      method: 'GET',
      url: `${target.origin}/v2/datastores?fixed=1`,
      query: { page: 2, uid: ['a', 'b'], skip: undefined, flag: true },
      signal: signal(),
    });
    await response.dump();
    expect(target.requests[0]?.url).toBe('/v2/datastores?fixed=1&page=2&uid=a&uid=b&flag=true');
  });

  it('logs each request at debug with endpoint, status and attempt but never the query', async () => {
    const target = await server(ok());
    const { client: http, logs } = client({ allowedHosts: [target.hostPattern] });
    const response = await http.request({
      method: 'GET',
      url: `${target.origin}/v2/datastores`,
      query: { cursor: 'query-secret-cursor' },
      signal: signal(),
    });
    await response.text();
    expect(logs.records()).toContainEqual(
      expect.objectContaining({
        msg: 'HTTP request',
        endpoint: 'GET /v2/datastores',
        status: 200,
        attempt: 1,
      }),
    );
    expect(logs.text()).not.toContain('query-secret-cursor');
  });

  it('returns a status listed in acceptStatus instead of throwing', async () => {
    const target = await server((_request, response) => {
      sendJson(response, 404, { error: 'gone' });
    });
    const { client: http } = client({ allowedHosts: [target.hostPattern] });
    const response = await http.request({
      method: 'GET',
      url: `${target.origin}/v1/x`,
      acceptStatus: [404],
      signal: signal(),
    });
    expect(response.status).toBe(404);
    expect(response.headers['content-type']).toBe('application/json');
    await response.dump();
  });

  it('registers the Bearer header and its token with the redactor', async () => {
    const target = await server(ok());
    const { client: http, logs } = client({ allowedHosts: [target.hostPattern] });
    const token = makeCanary('bearer');
    await (
      await http.request({
        method: 'GET',
        url: `${target.origin}/x`,
        headers: { Authorization: `Bearer ${token}` },
        signal: signal(),
      })
    ).dump();
    expect(target.requests[0]?.headers.authorization).toBe(`Bearer ${token}`);
    expect(logs.redactor.redact(`a ${token} b`)).toBe('a [redacted] b');
    logs.logger.info({ detail: `Bearer ${token}` }, 'Echo');
    expect(logs.text()).not.toContain(token);
  });

  it('registers a Basic header, its decoded user:pass and the password with the redactor', async () => {
    const target = await server(ok());
    const { client: http, logs } = client({ allowedHosts: [target.hostPattern] });
    const password = makeCanary('pass');
    const basic = Buffer.from(`svc-user:${password}`).toString('base64');
    await (
      await http.request({
        method: 'GET',
        url: `${target.origin}/x`,
        headers: { authorization: `Basic ${basic}` },
        signal: signal(),
      })
    ).dump();
    expect(logs.redactor.redact(basic)).toBe('[redacted]');
    expect(logs.redactor.redact(`svc-user:${password}`)).toBe('[redacted]');
    expect(logs.redactor.redact(`pw=${password}`)).toBe('pw=[redacted]');
  });
});

describe('redirects', () => {
  it('follows a GET redirect on the same host and keeps the Authorization header', async () => {
    const target = await server((request, response) => {
      if (request.url === '/old') {
        response.writeHead(301, { location: '/new' }).end();
        return;
      }
      sendJson(response, 200, { at: request.url });
    });
    const { client: http } = client({ allowedHosts: [target.hostPattern] });
    const response = await http.request({
      method: 'GET',
      url: `${target.origin}/old`,
      headers: { authorization: 'Bearer same-origin-token' },
      signal: signal(),
    });
    expect(await response.json(z.object({ at: z.string() }))).toEqual({ at: '/new' });
    expect(target.requests[1]?.headers.authorization).toBe('Bearer same-origin-token');
  });

  it('drops the Authorization header when a redirect changes origin', async () => {
    const second = await server(ok());
    const first = await server((_request, response) => {
      response.writeHead(307, { location: `${second.origin}/there` }).end();
    });
    const { client: http } = client({ allowedHosts: [first.hostPattern, second.hostPattern] });
    const response = await http.request({
      method: 'GET',
      url: `${first.origin}/here`,
      headers: { authorization: 'Bearer cross-origin-token' },
      signal: signal(),
    });
    await response.dump();
    expect(first.requests[0]?.headers.authorization).toBe('Bearer cross-origin-token');
    expect(second.requests[0]?.url).toBe('/there');
    expect(second.requests[0]?.headers.authorization).toBeUndefined();
  });

  it('does not follow a redirect answered to a POST and fails with the domain error', async () => {
    const target = await server((_request, response) => {
      response.writeHead(302, { location: '/elsewhere' }).end();
    });
    const { client: http } = client({
      allowedHosts: [target.hostPattern],
      allowedCalls: [{ method: 'POST', path: '/v1/login' }],
    });
    const error = await rejectionOf(
      http.request({
        method: 'POST',
        url: `${target.origin}/v1/login`,
        form: { a: 'b' },
        signal: signal(),
      }),
    );
    expect(isPerimeterError(error, 'SOURCE_REQUEST_FAILED')).toBe(true);
    expect(error['context']).toMatchObject({ status: 302, endpoint: 'POST /v1/login' });
    expect(target.requests).toHaveLength(1);
  });

  it('stops after maxRedirects hops', async () => {
    const target = await server((request, response) => {
      const hop = Number(request.url?.slice(1));
      response.writeHead(302, { location: `/${hop + 1}` }).end();
    });
    const { client: http } = client({ allowedHosts: [target.hostPattern] });
    const error = await rejectionOf(
      http.request({ method: 'GET', url: `${target.origin}/0`, signal: signal() }),
    );
    expect(isPerimeterError(error, 'SOURCE_REQUEST_FAILED')).toBe(true);
    expect(error.message).toContain('redirected more than 5 times');
    expect(target.requests).toHaveLength(6);
  });
});

describe('close', () => {
  it('is idempotent and refuses requests afterwards', async () => {
    const target = await server(ok());
    const { client: http } = client({ allowedHosts: [target.hostPattern] });
    await Promise.all([http.close(), http.close()]);
    await http.close();
    const error = await rejectionOf(
      http.request({ method: 'GET', url: `${target.origin}/x`, signal: signal() }),
    );
    expect(isPerimeterError(error, 'RUN_ABORTED')).toBe(true);
  });
});

import { describe, expect, it } from 'vitest';
import { freePort } from '../../test/helpers/ports.ts';
import { PerimeterError, isPerimeterError } from '../plugin-api/index.ts';
import {
  fastSettings,
  rejectionOf,
  sendJson,
  closedAfterEach,
} from '../../test/helpers/loopback.ts';
import type { Handler, TestClient } from '../../test/helpers/loopback.ts';
import { heldClock, instantClock } from '../../test/helpers/test-clock.ts';
import { waitFor } from '../../test/helpers/wait-for.ts';

const { server, client } = closedAfterEach();

/** Answers the given statuses in turn (then the last one), with optional headers. */
function sequence(...answers: [status: number, headers?: Record<string, string>][]): Handler {
  let index = 0;
  return (_request, response) => {
    const [status, headers = {}] = answers[Math.min(index, answers.length - 1)] ?? [500];
    index += 1;
    sendJson(response.setHeaders(new Map(Object.entries(headers))), status, { status });
  };
}

const signal = (): AbortSignal => AbortSignal.timeout(10_000);

async function retriesCounted(built: TestClient, reason: string): Promise<number> {
  const metric = await built.metrics.retriesTotal.get();
  return metric.values.find((v) => v.labels.reason === reason)?.value ?? 0;
}

describe('retries', () => {
  it('retries a 429 after the Retry-After delay', async () => {
    const target = await server(sequence([429, { 'retry-after': '1' }], [200]));
    const clock = instantClock();
    const built = client({ allowedHosts: [target.hostPattern] }, { clock });
    const response = await built.client.request({
      method: 'GET',
      url: `${target.origin}/x`,
      signal: signal(),
    });
    expect(response.status).toBe(200);
    await response.dump();
    expect(clock.delaysMs).toEqual([1000]);
    expect(target.requests).toHaveLength(2);
    expect(await retriesCounted(built, 'status429')).toBe(1);
    expect(built.logs.records()).toContainEqual(
      expect.objectContaining({
        level: 'warn',
        endpoint: 'GET /x',
        attempt: 1,
        delayMs: 1000,
        reason: 'status429',
      }),
    );
  });

  it('succeeds after a 503 followed by a 200', async () => {
    const target = await server(sequence([503], [200]));
    const built = client({ allowedHosts: [target.hostPattern] });
    const response = await built.client.request({
      method: 'GET',
      url: `${target.origin}/x`,
      signal: signal(),
    });
    expect(response.status).toBe(200);
    await response.dump();
    expect(await retriesCounted(built, 'status5xx')).toBe(1);
  });

  it('succeeds after the connection is reset once', async () => {
    let calls = 0;
    const target = await server((request, response) => {
      calls += 1;
      if (calls === 1) {
        request.socket.resetAndDestroy();
        return;
      }
      sendJson(response, 200, {});
    });
    const built = client({ allowedHosts: [target.hostPattern] });
    const response = await built.client.request({
      method: 'GET',
      url: `${target.origin}/x`,
      signal: signal(),
    });
    expect(response.status).toBe(200);
    await response.dump();
    expect(calls).toBe(2);
    expect(await retriesCounted(built, 'network')).toBe(1);
  });

  it('throws SOURCE_RATE_LIMITED at once when Retry-After exceeds the cap', async () => {
    const target = await server(sequence([429, { 'retry-after': '120' }], [200]));
    const { client: http } = client({ allowedHosts: [target.hostPattern] });
    const started = performance.now();
    const error = await rejectionOf(
      http.request({ method: 'GET', url: `${target.origin}/x`, signal: signal() }),
    );
    expect(performance.now() - started).toBeLessThan(500);
    expect(isPerimeterError(error, 'SOURCE_RATE_LIMITED')).toBe(true);
    expect((error as unknown as PerimeterError).retryAfterMs).toBe(120_000);
    expect((error as unknown as PerimeterError).retryable).toBe(true);
    expect(target.requests).toHaveLength(1);
  });

  it('ends at once when aborted during a backoff wait, leaving no wait behind', async () => {
    const target = await server(sequence([503, { 'retry-after': '4' }]));
    const clock = heldClock();
    const { client: http } = client({ allowedHosts: [target.hostPattern] }, { clock });
    const controller = new AbortController();
    const pending = rejectionOf(
      http.request({ method: 'GET', url: `${target.origin}/x`, signal: controller.signal }),
    );
    await waitFor(() => clock.pending === 1, { what: 'the backoff wait' });
    controller.abort();
    const error = await pending;
    expect(isPerimeterError(error, 'RUN_ABORTED')).toBe(true);
    expect(clock.delaysMs).toEqual([4000]);
    expect(clock.pending).toBe(0);
    expect(target.requests).toHaveLength(1);
  });

  it('rethrows the abort reason when it is a PerimeterError', async () => {
    const target = await server(sequence([503, { 'retry-after': '4' }]));
    const { client: http } = client({ allowedHosts: [target.hostPattern] });
    const reason = new PerimeterError('RUN_CANCELLED', 'Cancelled by instruction');
    const controller = new AbortController();
    const pending = rejectionOf(
      http.request({ method: 'GET', url: `${target.origin}/x`, signal: controller.signal }),
    );
    await waitFor(() => target.requests.length === 1, { what: 'the first attempt' });
    controller.abort(reason);
    expect(await pending).toBe(reason);
  });

  it('gives up after maxAttempts with the domain error and the attempt count', async () => {
    const target = await server(sequence([502]));
    const { client: http } = client({ allowedHosts: [target.hostPattern] });
    const error = await rejectionOf(
      http.request({ method: 'GET', url: `${target.origin}/x`, signal: signal() }),
    );
    expect(isPerimeterError(error, 'SOURCE_UNAVAILABLE')).toBe(true);
    expect(error['context']).toEqual({
      endpoint: 'GET /x',
      status: 502,
      attempt: 4,
      host: target.hostPattern,
    });
    expect(target.requests).toHaveLength(4);
  });

  it('does not retry a POST unless the request asks for it', async () => {
    const target = await server(sequence([503], [200]));
    const policy = {
      allowedHosts: [target.hostPattern],
      allowedCalls: [{ method: 'POST' as const, path: '/v1/**' }],
    };
    const { client: http } = client(policy);
    const error = await rejectionOf(
      http.request({ method: 'POST', url: `${target.origin}/v1/a`, body: 'x', signal: signal() }),
    );
    expect(isPerimeterError(error, 'SOURCE_UNAVAILABLE')).toBe(true);
    const response = await http.request({
      method: 'POST',
      url: `${target.origin}/v1/a`,
      body: 'x',
      retry: true,
      signal: signal(),
    });
    expect(response.status).toBe(200);
    await response.dump();
  });

  it('retries a refused connection, then reports SOURCE_UNAVAILABLE with the network code', async () => {
    const port = await freePort();
    const built = client({ allowedHosts: [`127.0.0.1:${port}`] });
    const error = await rejectionOf(
      built.client.request({ method: 'GET', url: `http://127.0.0.1:${port}/x`, signal: signal() }),
    );
    expect(isPerimeterError(error, 'SOURCE_UNAVAILABLE')).toBe(true);
    expect(error['context']).toMatchObject({ networkCode: 'ECONNREFUSED', attempt: 4 });
    expect(await retriesCounted(built, 'network')).toBe(3);
  });

  it('retries a headers timeout with reason timeout', async () => {
    let calls = 0;
    const target = await server((_request, response) => {
      calls += 1;
      if (calls > 1) {
        sendJson(response, 200, {});
      }
    });
    const settings = fastSettings({ headersTimeoutMs: 100 });
    const built = client({ allowedHosts: [target.hostPattern] }, { settings });
    const response = await built.client.request({
      method: 'GET',
      url: `${target.origin}/x`,
      signal: signal(),
    });
    expect(response.status).toBe(200);
    await response.dump();
    expect(await retriesCounted(built, 'timeout')).toBe(1);
  });
});

describe('error domains', () => {
  const cases: [domain: 'source' | 'sink' | 'controlPlane', status: number, code: string][] = [
    ['source', 401, 'SOURCE_AUTH_FAILED'],
    ['source', 403, 'SOURCE_ACCESS_DENIED'],
    ['source', 404, 'SOURCE_REQUEST_FAILED'],
    ['source', 408, 'SOURCE_UNAVAILABLE'],
    ['sink', 400, 'SINK_REJECTED'],
    ['sink', 401, 'SINK_REJECTED'],
    ['sink', 413, 'SINK_REJECTED'],
    ['sink', 429, 'SINK_UNAVAILABLE'],
    ['sink', 503, 'SINK_UNAVAILABLE'],
    ['controlPlane', 401, 'CONTROL_PLANE_REJECTED'],
    ['controlPlane', 403, 'CONTROL_PLANE_REJECTED'],
    ['controlPlane', 404, 'CONTROL_PLANE_REJECTED'],
    ['controlPlane', 408, 'CONTROL_PLANE_UNAVAILABLE'],
    ['controlPlane', 500, 'CONTROL_PLANE_UNAVAILABLE'],
  ];

  it.each(cases)(
    'maps a %s %d to %s without quoting the body',
    async (errorDomain, status, code) => {
      const target = await server((_request, response) => {
        sendJson(response, status, { detail: 'body-marker-7f3a' });
      });
      const settings = fastSettings({ retry: { maxAttempts: 1 } });
      const { client: http } = client(
        { allowedHosts: [target.hostPattern] },
        { errorDomain, settings },
      );
      const error = await rejectionOf(
        http.request({ method: 'GET', url: `${target.origin}/v1/x`, signal: signal() }),
      );
      expect(isPerimeterError(error)).toBe(true);
      expect(error['code']).toBe(code);
      expect(error['context']).toMatchObject({ status, endpoint: 'GET /v1/x' });
      expect(JSON.stringify(error['context']) + error.message).not.toContain('body-marker-7f3a');
    },
  );

  it('gives the sink its Retry-After on a throttled batch after the retries', async () => {
    const target = await server(sequence([429, { 'retry-after': '0' }]));
    const policy = {
      allowedHosts: [target.hostPattern],
      allowedCalls: [{ method: 'POST' as const, path: '/v1/**' }],
    };
    const { client: http } = client(policy, { errorDomain: 'sink' });
    const error = await rejectionOf(
      http.request({
        method: 'POST',
        url: `${target.origin}/v1/runs/r/batches`,
        body: 'x',
        retry: true,
        signal: signal(),
      }),
    );
    expect(isPerimeterError(error, 'SINK_UNAVAILABLE')).toBe(true);
    expect((error as unknown as PerimeterError).retryAfterMs).toBe(0);
    expect(target.requests).toHaveLength(4);
  });
});

import { describe, expect, it } from 'vitest';
import { PerimeterError } from '../plugin-api/index.ts';
import {
  abortedError,
  statusErrorCode,
  transportError,
  transportRetryReason,
} from './error-map.ts';
import type { FailureContext } from './error-map.ts';

const withCode = (code: string, cause?: unknown): Error =>
  Object.assign(new Error(`failure ${code}`, { cause }), { code });

const context: FailureContext = {
  domain: 'source',
  endpoint: 'GET /x',
  host: 'api.cyera.io',
  attempt: 2,
};

describe('transportError', () => {
  it('finds a certificate code in the cause chain, as undici wraps it behind a proxy', () => {
    const error = transportError(
      withCode('UND_ERR_PRX_TLS', withCode('ERR_TLS_CERT_ALTNAME_INVALID')),
      context,
    );
    expect(error.code).toBe('TLS_UNTRUSTED');
    expect(error.context).toMatchObject({
      host: 'api.cyera.io',
      tlsCode: 'ERR_TLS_CERT_ALTNAME_INVALID',
    });
  });

  it.each([
    ['source', 'SOURCE_UNAVAILABLE'],
    ['sink', 'SINK_UNAVAILABLE'],
    ['controlPlane', 'CONTROL_PLANE_UNAVAILABLE'],
  ] as const)('maps a %s network failure to %s with the network code', (domain, code) => {
    const error = transportError(withCode('ECONNRESET'), { ...context, domain });
    expect(error.code).toBe(code);
    expect(error.retryable).toBe(true);
    expect(error.context).toMatchObject({
      networkCode: 'ECONNRESET',
      attempt: 2,
      endpoint: 'GET /x',
    });
  });

  it('maps a malformed request to INTERNAL and a closed client to RUN_ABORTED', () => {
    expect(transportError(withCode('UND_ERR_INVALID_ARG'), context).code).toBe('INTERNAL');
    expect(transportError(withCode('UND_ERR_CLOSED'), context).code).toBe('RUN_ABORTED');
  });

  it('says a timeout timed out', () => {
    expect(transportError(withCode('UND_ERR_HEADERS_TIMEOUT'), context).message).toContain(
      'timed out',
    );
  });
});

describe('transportRetryReason', () => {
  it('classifies timeouts, network errors and certificate failures', () => {
    expect(transportRetryReason(withCode('UND_ERR_CONNECT_TIMEOUT'))).toBe('timeout');
    expect(transportRetryReason(withCode('UND_ERR_BODY_TIMEOUT'))).toBe('timeout');
    expect(transportRetryReason(withCode('ECONNREFUSED'))).toBe('network');
    expect(transportRetryReason(withCode('UND_ERR_SOCKET'))).toBe('network');
    expect(transportRetryReason(withCode('SELF_SIGNED_CERT_IN_CHAIN'))).toBeUndefined();
    expect(transportRetryReason(withCode('UND_ERR_INVALID_ARG'))).toBeUndefined();
    expect(transportRetryReason(withCode('UND_ERR_DESTROYED'))).toBeUndefined();
  });
});

describe('statusErrorCode', () => {
  it('maps source statuses as the plugin API documents', () => {
    expect(statusErrorCode('source', 401)).toBe('SOURCE_AUTH_FAILED');
    expect(statusErrorCode('source', 403)).toBe('SOURCE_ACCESS_DENIED');
    expect(statusErrorCode('source', 429)).toBe('SOURCE_RATE_LIMITED');
    expect(statusErrorCode('source', 408)).toBe('SOURCE_UNAVAILABLE');
    expect(statusErrorCode('source', 503)).toBe('SOURCE_UNAVAILABLE');
    expect(statusErrorCode('source', 400)).toBe('SOURCE_REQUEST_FAILED');
    expect(statusErrorCode('source', 304)).toBe('SOURCE_REQUEST_FAILED');
  });
});

describe('abortedError', () => {
  it('returns the signal reason when it is a PerimeterError, else RUN_ABORTED', () => {
    const reason = new PerimeterError('RUN_TIMEOUT', 'Run timed out');
    const timedOut = new AbortController();
    timedOut.abort(reason);
    expect(abortedError(timedOut.signal)).toBe(reason);
    const plain = new AbortController();
    plain.abort();
    expect(abortedError(plain.signal).code).toBe('RUN_ABORTED');
  });
});

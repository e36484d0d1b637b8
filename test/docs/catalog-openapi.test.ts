import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { syntheticAsset } from '../fakes/catalog/assets.ts';
import { createOpenApiChecker } from '../helpers/openapi.ts';
import type { CheckedRequest } from '../helpers/openapi.ts';

const checker = createOpenApiChecker(
  new URL('../../docs/protocol/catalog.openapi.yaml', import.meta.url),
);

const ndjson = (...records: unknown[]): Buffer =>
  Buffer.from(records.map((record) => `${JSON.stringify(record)}\n`).join(''));

function batch(overrides: Partial<CheckedRequest> = {}): CheckedRequest {
  return {
    method: 'POST',
    path: '/v1/runs/run-1/batches',
    headers: {
      'Content-Type': 'application/x-ndjson',
      'Content-Encoding': 'gzip',
      'Idempotency-Key': 'run-1:0',
      Authorization: 'Bearer abc.def',
    },
    body: gzipSync(ndjson(syntheticAsset(0), syntheticAsset(1))),
    ...overrides,
  };
}

describe('docs/protocol/catalog.openapi.yaml with the OpenAPI checker', () => {
  it('accepts the token check as perimeter check and the readiness probe send it', () => {
    const whoami = (method: string, path: string): string[] =>
      checker.check({
        method,
        path,
        headers: { authorization: 'Bearer abc.def', accept: 'application/json' },
        body: Buffer.alloc(0),
      });
    expect(whoami('GET', '/v1/whoami')).toEqual([]);
    expect(whoami('POST', '/v1/whoami')).not.toEqual([]);
  });

  it('accepts a batch and a complete call as the sink sends them', () => {
    expect(checker.check(batch())).toEqual([]);
    expect(
      checker.check({
        method: 'POST',
        path: '/v1/runs/run-1/complete',
        headers: { 'content-type': 'application/json' },
        body: Buffer.from(JSON.stringify({ assets: 2, batches: 1, complete: true })),
      }),
    ).toEqual([]);
  });

  it('accepts a complete call with the run counts, and refuses one with a key it does not define', () => {
    const counts = JSON.parse(
      readFileSync(new URL('../fixtures/run-counts/partial.json', import.meta.url), 'utf8'),
    ) as Record<string, unknown>;
    const complete = (body: unknown): string[] =>
      checker.check({
        method: 'POST',
        path: '/v1/runs/run-1/complete',
        headers: { 'content-type': 'application/json' },
        body: Buffer.from(JSON.stringify(body)),
      });
    expect(complete({ assets: 3, batches: 1, complete: true, ...counts })).toEqual([]);
    expect(complete({ assets: 3, batches: 1, complete: true, partial: 'yes' })).not.toEqual([]);
    expect(complete({ assets: 3, batches: 1, complete: true, skippedIds: [] })).not.toEqual([]);
  });

  it('names a missing required header and a header that fails its schema', () => {
    const { 'Content-Encoding': _encoding, ...headers } = batch().headers;
    expect(
      checker.check(batch({ headers: { ...headers, 'Idempotency-Key': 'run-1:007' } })),
    ).toEqual(
      expect.arrayContaining([
        'header parameter Idempotency-Key: must match pattern "^[A-Za-z0-9._-]{1,128}:(0|[1-9][0-9]{0,14})$"',
        'the header parameter Content-Encoding is required',
      ]),
    );
  });

  it('validates each NDJSON line against the asset schema, naming the line and the path', () => {
    const bad = { ...syntheticAsset(1), typeName: 'not pascal' };
    expect(checker.check(batch({ body: gzipSync(ndjson(syntheticAsset(0), bad)) }))).toEqual([
      'line 2: /typeName must match pattern "^[A-Z][A-Za-z0-9_]*$"',
    ]);
    expect(checker.check(batch({ body: gzipSync(Buffer.from('{"a":\n')) }))).toEqual([
      'line 1: not JSON',
    ]);
    expect(checker.check(batch({ body: Buffer.from('plain') }))).toEqual([
      'the body is not valid gzip although Content-Encoding says gzip',
    ]);
  });

  it('refuses an unknown route, another method, a wrong media type and a foreign auth scheme', () => {
    expect(checker.check(batch({ path: '/v1/runs/run-1/other' }))).toEqual([
      'no path template matches /v1/runs/run-1/other',
    ]);
    expect(checker.check(batch({ method: 'PUT' }))).toEqual([
      'PUT is not an operation of /v1/runs/{runId}/batches',
    ]);
    expect(
      checker.check(batch({ headers: { ...batch().headers, 'Content-Type': 'application/json' } })),
    ).toEqual(['Content-Type application/json is not one of application/x-ndjson']);
    expect(
      checker.check(batch({ headers: { ...batch().headers, Authorization: 'Basic dXNlcg==' } })),
    ).toEqual(['no security requirement is met (bearerToken | none)']);
  });

  it('validates a JSON body against its schema', () => {
    expect(
      checker.check({
        method: 'POST',
        path: '/v1/runs/123/complete',
        headers: { 'content-type': 'application/json' },
        body: Buffer.from(JSON.stringify({ assets: -1, complete: false })),
      }),
    ).toEqual([
      'path parameter runId: must match pattern "^(?![0-9]+$)[A-Za-z0-9._-]{1,128}$"',
      "body: / must have required property 'batches'",
      'body: /assets must be >= 0',
      'body: /complete must be equal to constant',
    ]);
  });
});

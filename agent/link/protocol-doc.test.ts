import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createOpenApiChecker } from '../../test/helpers/openapi.ts';
import { heartbeatBody } from '../../test/helpers/link-harness.ts';

// The link's requests are checked against this document in every link test; these cases show
// the document is strict enough for that check to mean something.
const checker = createOpenApiChecker(
  new URL('../../docs/protocol/control-plane.openapi.yaml', import.meta.url),
);
const auth = { authorization: 'Bearer t0k3n', 'content-type': 'application/json' };
const post = (path: string, body: unknown, headers: Record<string, string> = auth): string[] =>
  checker.check({ method: 'POST', path, headers, body: Buffer.from(JSON.stringify(body)) });
const event = { runId: 'run-1', seq: 0, at: '2025-06-01T12:00:00.000Z', type: 'queued' };

describe('docs/protocol/control-plane.openapi.yaml', () => {
  it('accepts the requests the protocol defines', () => {
    expect(
      checker.check({
        method: 'GET',
        path: '/v1/agents/agent-1',
        headers: { authorization: 'Bearer t0k3n', accept: 'application/json' },
        body: Buffer.alloc(0),
      }),
    ).toEqual([]);
    expect(
      checker.check({
        method: 'GET',
        path: '/v1/agents/agent-1/instructions?wait=25',
        headers: auth,
        body: Buffer.alloc(0),
      }),
    ).toEqual([]);
    expect(post('/v1/instructions/ins-1/ack', { accepted: true })).toEqual([]);
    expect(
      post('/v1/instructions/ins-1/ack', {
        accepted: false,
        error: { code: 'JOB_INVALID', message: 'bad' },
      }),
    ).toEqual([]);
    expect(post('/v1/agents/agent-1/heartbeat', heartbeatBody(3, 'agent-1'))).toEqual([]);
    expect(
      post('/v1/runs/run-1/events', {
        agentId: 'agent-1',
        events: [event, { ...event, seq: 1, type: 'started', attempt: 1 }],
      }),
    ).toEqual([]);
    const outcome = {
      operation: 'extract',
      connector: 'cyera',
      assets: 3,
      batches: 1,
      bytes: 120,
      durationMs: 8,
      awaitingReview: true,
    };
    expect(
      post('/v1/runs/run-1/events', {
        agentId: 'agent-1',
        events: [{ ...event, seq: 2, type: 'awaiting_review', attempt: 1, result: outcome }],
      }),
    ).toEqual([]);
  });

  it('accepts a succeeded extract with its counts, and refuses a skip with an unknown reason', () => {
    const counts = JSON.parse(
      readFileSync(new URL('../../test/fixtures/run-counts/partial.json', import.meta.url), 'utf8'),
    ) as { skipped: { items: { reason: string }[] } };
    const succeeded = (result: unknown): string[] =>
      post('/v1/runs/run-1/events', {
        agentId: 'agent-1',
        events: [{ ...event, seq: 2, type: 'succeeded', attempt: 1, result }],
      });
    const outcome = {
      operation: 'extract',
      connector: 'cyral',
      assets: 3,
      batches: 1,
      bytes: 120,
      durationMs: 8,
    };
    expect(succeeded({ ...outcome, ...counts })).toEqual([]);
    const bad = structuredClone(counts);
    bad.skipped.items[0]!.reason = 'lost';
    expect(succeeded({ ...outcome, ...bad })).not.toEqual([]);
  });

  it.each([
    [
      'a call without the bearer token',
      () =>
        post(
          '/v1/instructions/ins-1/ack',
          { accepted: true },
          { 'content-type': 'application/json' },
        ),
    ],
    [
      'a poll waiting longer than 25 s',
      () =>
        checker.check({
          method: 'GET',
          path: '/v1/agents/agent-1/instructions?wait=60',
          headers: auth,
          body: Buffer.alloc(0),
        }),
    ],
    [
      'a refusal without a code',
      () => post('/v1/instructions/ins-1/ack', { accepted: false, error: { message: 'x' } }),
    ],
    [
      'an acceptance carrying an error',
      () =>
        post('/v1/instructions/ins-1/ack', { accepted: true, error: { code: 'X', message: 'x' } }),
    ],
    [
      'a failed event without its error',
      () =>
        post('/v1/runs/run-1/events', {
          agentId: 'a',
          events: [{ ...event, type: 'failed', attempt: 1 }],
        }),
    ],
    [
      'an awaiting_review event without its result',
      () =>
        post('/v1/runs/run-1/events', {
          agentId: 'a',
          events: [{ ...event, type: 'awaiting_review', attempt: 1 }],
        }),
    ],
    [
      'an event with an unknown member',
      () => post('/v1/runs/run-1/events', { agentId: 'a', events: [{ ...event, secret: 'x' }] }),
    ],
    [
      'a heartbeat with a config dump',
      () => post('/v1/agents/agent-1/heartbeat', { ...heartbeatBody(0), config: {} }),
    ],
    [
      'a PUT',
      () =>
        checker.check({
          method: 'PUT',
          path: '/v1/instructions/ins-1/ack',
          headers: auth,
          body: Buffer.alloc(0),
        }),
    ],
  ])('flags %s', (_name, check) => {
    expect(check().length).toBeGreaterThan(0);
  });
});

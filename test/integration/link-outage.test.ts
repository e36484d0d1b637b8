import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { AGENT_ID, protocolProblems, startLinkHarness } from '../helpers/link-harness.ts';
import type { LinkHarness } from '../helpers/link-harness.ts';
import { startFakeControlPlane } from '../fakes/control-plane/server.ts';
import type { FakeControlPlane, RecordedRequest } from '../fakes/control-plane/server.ts';
import { runDraft } from '../fakes/control-plane/signing.ts';
import { waitFor } from '../helpers/wait-for.ts';

const BACKOFF = { baseMs: 20, maxMs: 200 };
const harnesses: LinkHarness[] = [];
let sharedFake: FakeControlPlane | undefined;

afterEach(async () => {
  await Promise.all(harnesses.splice(0).map((h) => h.close()));
  await sharedFake?.close();
  sharedFake = undefined;
});

async function start(options: Parameters<typeof startLinkHarness>[0] = {}): Promise<LinkHarness> {
  const h = await startLinkHarness(options);
  harnesses.push(h);
  return h;
}

const isPoll = (request: RecordedRequest, agentId = AGENT_ID): boolean =>
  request.path.startsWith(`/v1/agents/${agentId}/instructions`);

/** Appends `count` events to a run: queued, then started/progress. */
async function appendEvents(h: LinkHarness, runId: string, count: number): Promise<void> {
  for (let index = 0; index < count; index += 1) {
    await h.outbox.append(
      runId,
      index === 0
        ? { type: 'queued' }
        : {
            type: 'progress',
            attempt: 1,
            progress: { assets: index, batches: 1, bytes: 100 * index },
          },
    );
  }
}

function gapsOf(times: readonly number[]): number[] {
  return times.slice(1).map((time, index) => time - (times[index] ?? time));
}

describe('the link through a control-plane outage', () => {
  it('backs off with spread, bounded waits while the control plane answers 503, then delivers every event in order', async () => {
    // A short lease: an instruction whose ack failed in the outage comes back soon after it.
    const h = await start({
      fake: { leaseMs: 500 },
      settings: { backoff: BACKOFF, heartbeatIntervalSeconds: 0.1 },
    });
    await appendEvents(h, 'run-a', 2);
    await waitFor(() => h.fake.records.runEvents('run-a').length === 2, {
      what: 'events before the outage',
    });
    const outageMs = 1500;
    const outageStart = Date.now();
    h.fake.fail({ kind: 'status', status: 503, forMs: outageMs, retryAfterSeconds: 0 });
    await appendEvents(h, 'run-b', 5);
    const instruction = runDraft({ runId: 'run-during-outage', connectionId: 'fixture-main' });
    h.fake.issue(instruction, AGENT_ID);
    await sleep(200);
    await h.outbox.append('run-a', { type: 'started', attempt: 1 });
    await waitFor(() => h.fake.records.acksOf(instruction['id'] as string)[0], {
      timeoutMs: 10_000,
      what: 'the ack after the outage',
    });
    await waitFor(async () => (await h.outbox.pending()) === 0, {
      timeoutMs: 10_000,
      what: 'an empty outbox',
    });

    const refusedPolls = h.fake.records.requests.filter(
      (r) => isPoll(r) && r.status === 503 && r.atMs >= outageStart,
    );
    const gaps = gapsOf(refusedPolls.map((r) => r.atMs));
    expect(refusedPolls.length).toBeGreaterThanOrEqual(5);
    // No tight loop: with waits uniform up to 20, 40, 80, 160, then 200 ms, ~15 polls fit in 1.5 s.
    expect(refusedPolls.length).toBeLessThan(60);
    expect(Math.max(...gaps)).toBeLessThanOrEqual(BACKOFF.maxMs + 100);
    expect(new Set(gaps.map((gap) => Math.floor(gap / 10))).size).toBeGreaterThanOrEqual(4);

    expect(h.fake.records.runEvents('run-a').map((e) => e.seq)).toEqual([0, 1, 2]);
    expect(h.fake.records.runEvents('run-b').map((e) => [e.seq, e.type])).toEqual([
      [0, 'queued'],
      [1, 'progress'],
      [2, 'progress'],
      [3, 'progress'],
      [4, 'progress'],
    ]);
    expect(h.target.callsFor('run-during-outage')).toBe(1);
    expect(h.link.status()).toMatchObject({
      fresh: true,
      consecutiveErrors: 0,
      lastErrorCode: 'CONTROL_PLANE_UNAVAILABLE',
    });
    expect(protocolProblems(h.fake)).toEqual([]);
  });

  it('recovers after connections were refused, with its failures logged and paced', async () => {
    const h = await start({ fake: { leaseMs: 500 }, settings: { backoff: BACKOFF } });
    await waitFor(() => h.link.status().fresh, { what: 'a first poll' });
    await h.fake.down(800);
    await appendEvents(h, 'run-c', 3);
    const instruction = runDraft({ runId: 'run-after-down', connectionId: 'fixture-main' });
    h.fake.issue(instruction, AGENT_ID);
    await waitFor(() => h.fake.records.acksOf(instruction['id'] as string)[0], {
      timeoutMs: 10_000,
      what: 'the ack after recovery',
    });
    await waitFor(() => h.fake.records.runEvents('run-c').length === 3, {
      timeoutMs: 10_000,
      what: 'events after recovery',
    });
    const failures = h.logs.records().filter((line) => line['msg'] === 'Control-plane call failed');
    expect(failures.length).toBeGreaterThan(0);
    expect(failures.every((line) => line['code'] === 'CONTROL_PLANE_UNAVAILABLE')).toBe(true);
    const perCall = new Map<unknown, number>();
    failures.forEach((line) => perCall.set(line['call'], (perCall.get(line['call']) ?? 0) + 1));
    expect(Math.max(...perCall.values())).toBeLessThan(40);
    expect(h.fake.records.runEvents('run-c').map((e) => e.seq)).toEqual([0, 1, 2]);
  });

  it('spreads the reconnects of 20 agents that lost the control plane together', async () => {
    sharedFake = await startFakeControlPlane();
    const fake = sharedFake;
    const agents = Array.from({ length: 20 }, (_, index) => `agent-${index}`);
    await Promise.all(
      agents.map((agentId) =>
        start({ sharedFake: fake, agentId, settings: { backoff: { baseMs: 50, maxMs: 400 } } }),
      ),
    );
    await waitFor(
      () => agents.every((agentId) => fake.records.requests.some((r) => isPoll(r, agentId))),
      { what: 'every agent polling' },
    );
    const outageMs = 2500;
    fake.fail({ kind: 'status', status: 503, forMs: outageMs });
    const outageEnd = Date.now() + outageMs;
    await sleep(outageMs + 600);
    const delays = agents.map((agentId) => {
      const first = fake.records.requests.find(
        (r) => isPoll(r, agentId) && r.atMs >= outageEnd && r.status !== 503,
      );
      return (first?.atMs ?? Infinity) - outageEnd;
    });
    expect(Math.max(...delays)).toBeLessThanOrEqual(400 + 150);
    // In lockstep they would all land within a few milliseconds of each other.
    expect(Math.max(...delays) - Math.min(...delays)).toBeGreaterThanOrEqual(100);
    expect(new Set(delays.map((delay) => Math.floor(delay / 50))).size).toBeGreaterThanOrEqual(4);
  });
});

import { afterEach, describe, expect, it } from 'vitest';
import type { RecordedAck } from '../../test/fakes/control-plane/records.ts';
import { draft, runDraft } from '../../test/fakes/control-plane/signing.ts';
import { findCanary, makeCanary } from '../../test/helpers/canary.ts';
import { testPki } from '../../test/helpers/tls.ts';
import { waitFor } from '../../test/helpers/wait-for.ts';
import {
  AGENT_ID,
  inlineConnection,
  protocolProblems,
  sentTexts,
  startLinkHarness,
} from '../../test/helpers/link-harness.ts';
import type { HarnessOptions, LinkHarness } from '../../test/helpers/link-harness.ts';

let harness: LinkHarness | undefined;

async function start(options: HarnessOptions = {}): Promise<LinkHarness> {
  harness = await startLinkHarness(options);
  return harness;
}

afterEach(async () => {
  if (harness !== undefined) {
    await harness.close();
    expect(protocolProblems(harness.fake)).toEqual([]);
    harness = undefined;
  }
});

const acked = (h: LinkHarness, id: string): Promise<RecordedAck> =>
  waitFor(() => h.fake.records.acksOf(id)[0], { what: `the ack of ${id}` });

describe('the control-plane link', () => {
  it('applies run, cancel, schedule and unschedule instructions and acknowledges each', async () => {
    const h = await start();
    const instructions = [
      runDraft({ runId: 'run-1', connectionId: 'fixture-main' }),
      draft('cancel', { cancel: { runId: 'run-1' } }),
      draft('schedule', {
        schedule: {
          scheduleId: 'nightly',
          cron: '0 2 * * *',
          run: { connectionId: 'fixture-main', operation: 'extract' },
        },
      }),
      draft('unschedule', { unschedule: { scheduleId: 'other' } }),
    ];
    h.fake.issue(instructions, AGENT_ID);
    for (const instruction of instructions) {
      expect(await acked(h, instruction['id'] as string)).toMatchObject({ accepted: true });
    }
    expect(h.target.calls.map((call) => call.method)).toEqual([
      'enqueueRun',
      'cancelRun',
      'upsertSchedule',
      'removeSchedule',
    ]);
    expect(
      h.fake.records.requests.every((r) => r.headers['authorization'] === `Bearer ${h.fake.token}`),
    ).toBe(true);
    expect(h.link.status()).toMatchObject({
      fresh: true,
      instructionsAccepted: 4,
      instructionsRefused: 0,
    });
  });

  it('applies a redelivered instruction once and acknowledges it twice', async () => {
    const h = await start({ fake: { leaseMs: 300 } });
    h.fake.fail({ kind: 'status', status: 503, count: 1, calls: ['ack'] });
    const instruction = runDraft({ runId: 'run-lease', connectionId: 'fixture-main' });
    const id = instruction['id'] as string;
    h.fake.issue(instruction, AGENT_ID);
    await acked(h, id);
    expect(h.fake.deliveries(id)).toBe(2);
    expect(
      h.fake.records.requests
        .filter((r) => r.path === `/v1/instructions/${id}/ack`)
        .map((r) => r.status),
    ).toEqual([503, 204]);
    expect(h.target.callsFor('run-lease')).toBe(1);
    expect(h.fake.queued(AGENT_ID)).toBe(0);
  });

  it('refuses and reports unsigned, tampered, foreign-signed and expired instructions when a key is pinned', async () => {
    const h = await start({ pinKey: true });
    const { signer } = h.fake;
    const run = (runId: string, shiftMs = 0): Record<string, unknown> =>
      runDraft({ runId, connectionId: 'fixture-main' }, { shiftMs });
    const cases = {
      valid: signer.sign(run('run-ok')),
      unsigned: run('run-unsigned'),
      tampered: signer.tamper(run('run-tampered'), (copy) => {
        (copy['run'] as Record<string, unknown>)['operation'] = 'discover';
      }),
      foreign: signer.signWithOtherKey(run('run-foreign')),
      expired: signer.sign(run('run-expired', -3_600_000)),
    };
    h.fake.issue(Object.values(cases), AGENT_ID);
    const codes = await Promise.all(
      Object.values(cases).map(async (instruction) => {
        const ack = (await acked(h, instruction['id'] as string)) as { code?: string };
        return ack.code ?? 'accepted';
      }),
    );
    expect(codes).toEqual([
      'accepted',
      'INSTRUCTION_UNSIGNED',
      'INSTRUCTION_SIGNATURE_INVALID',
      'INSTRUCTION_SIGNATURE_INVALID',
      'INSTRUCTION_EXPIRED',
    ]);
    expect([...h.target.runs.keys()]).toEqual(['run-ok']);
    expect(h.link.status().instructionsRefused).toBe(4);
    const refused = h.logs.records().filter((line) => line['msg'] === 'Instruction refused');
    expect(refused.map((line) => line['code'])).toEqual(codes.slice(1));
    const counted = await h.metrics.registry.getSingleMetricAsString(
      'perimeter_instructions_total',
    );
    expect(counted).toContain('perimeter_instructions_total{type="run",outcome="refused"} 4');
    expect(counted).toContain('perimeter_instructions_total{type="run",outcome="accepted"} 1');
  });

  it('delivers each run’s events in order and empties the outbox', async () => {
    const h = await start();
    for (let step = 0; step < 4; step += 1) {
      await h.outbox.append(
        'run-a',
        step === 0
          ? { type: 'queued' }
          : {
              type: 'progress',
              attempt: 1,
              progress: { assets: step, batches: step, bytes: step * 10 },
            },
      );
      await h.outbox.append(
        'run-b',
        step === 0 ? { type: 'queued' } : { type: 'started', attempt: step },
      );
    }
    await waitFor(async () => (await h.outbox.pending()) === 0, { what: 'an empty outbox' });
    expect(h.fake.records.runEvents('run-a').map((e) => e.seq)).toEqual([0, 1, 2, 3]);
    expect(h.fake.records.runEvents('run-b').map((e) => e.seq)).toEqual([0, 1, 2, 3]);
    expect(
      h.fake.records.requests
        .filter((r) => r.path.endsWith('/events'))
        .every(
          (r) => (JSON.parse(r.body.toString()) as { agentId?: unknown }).agentId === AGENT_ID,
        ),
    ).toBe(true);
  });

  it('keeps failed events until the control plane accepts them, and drops a body it refuses for good', async () => {
    const h = await start();
    h.fake.fail({ kind: 'status', status: 503, count: 2, calls: ['events'] });
    await h.outbox.append('run-a', { type: 'queued' });
    await waitFor(() => h.fake.records.runEvents('run-a').length === 1, {
      what: 'the retried event',
    });
    h.fake.fail({ kind: 'status', status: 400, count: 1, calls: ['events'] });
    await h.outbox.append('run-b', { type: 'queued' });
    await h.outbox.append('run-c', { type: 'queued' });
    await waitFor(() => h.fake.records.runEvents('run-c').length === 1, {
      what: 'events after the refused one',
    });
    expect(h.fake.records.runEvents('run-b')).toEqual([]);
    // The ack follows the control plane's answer: wait for it rather than race it.
    await waitFor(async () => (await h.outbox.pending()) === 0, { what: 'an empty outbox' });
    expect(
      h.logs
        .records()
        .some(
          (line) =>
            line['msg'] === 'Control plane refused run events; dropped' &&
            line['runId'] === 'run-b',
        ),
    ).toBe(true);
  });

  it('sends heartbeats and adopts the intervals a reply sets, within bounds', async () => {
    const h = await start();
    await waitFor(() => h.fake.records.heartbeats.length >= 2, { what: 'two heartbeats' });
    expect(h.fake.records.heartbeats[0]).toMatchObject({
      agentId: AGENT_ID,
      roles: ['link', 'worker'],
      pendingEvents: 0,
    });
    h.fake.setHeartbeatReply({ pollWaitSeconds: 0, heartbeatIntervalSeconds: 0.001 });
    await waitFor(
      () => h.fake.records.requests.some((r) => r.path.endsWith('/instructions?wait=0')),
      { what: 'a poll with wait=0' },
    );
    const count = h.fake.records.heartbeats.length;
    await new Promise((resolve) => setTimeout(resolve, 400));
    // 0.001 s is clamped to 1 s: at most one more heartbeat in 400 ms.
    expect(h.fake.records.heartbeats.length - count).toBeLessThanOrEqual(1);
  });

  it('logs a refused token at error, keeps retrying, and recovers', async () => {
    const h = await start();
    h.fake.fail({ kind: 'status', status: 401, count: 2, calls: ['poll'] });
    await waitFor(() => h.link.status().lastErrorCode === 'CONTROL_PLANE_REJECTED', {
      what: 'a rejected poll',
    });
    const instruction = runDraft({ runId: 'run-after-401', connectionId: 'fixture-main' });
    h.fake.issue(instruction, AGENT_ID);
    await acked(h, instruction['id'] as string);
    const rejected = h.logs
      .records()
      .filter((line) => line['msg'] === 'Control plane refused the call');
    expect(rejected.length).toBeGreaterThanOrEqual(1);
    expect(rejected.every((line) => line['level'] === 'error' && line['call'] === 'poll')).toBe(
      true,
    );
    expect(h.logs.text()).not.toContain(h.fake.token);
    const errors = await h.metrics.registry.getSingleMetricAsString('perimeter_link_errors_total');
    expect(errors).toMatch(/perimeter_link_errors_total\{call="poll"\} [2-9]/);
    const polls = await h.metrics.registry.getSingleMetricAsString(
      'perimeter_link_poll_duration_seconds',
    );
    expect(polls).toMatch(/perimeter_link_poll_duration_seconds_count\{outcome="error"\} [2-9]/);
  });

  it('stops within a bound while a long-poll is held, and stop is idempotent', async () => {
    const h = await start({ settings: { pollWaitSeconds: 25 } });
    await waitFor(() => h.fake.records.requests.some((r) => r.path.includes('wait=25')), {
      what: 'a held poll',
    });
    const startedMs = Date.now();
    const first = h.link.stop();
    expect(h.link.stop()).toBe(first);
    await first;
    expect(Date.now() - startedMs).toBeLessThan(1000);
  });

  it('stops within a bound while Redis hangs under an instruction', async () => {
    const hanging = {
      firstSeen: () => new Promise<boolean>(() => undefined),
      forget: () => Promise.resolve(),
    };
    const h = await start({ ledger: hanging });
    const instruction = runDraft({ runId: 'run-hang', connectionId: 'fixture-main' });
    h.fake.issue(instruction, AGENT_ID);
    await waitFor(() => h.fake.deliveries(instruction['id'] as string) === 1, {
      what: 'the delivery',
    });
    const startedMs = Date.now();
    await h.link.stop();
    expect(Date.now() - startedMs).toBeLessThan(1000);
    expect(
      h.logs
        .records()
        .some((line) => line['msg'] === 'Control-plane link loops did not end in time'),
    ).toBe(false);
  });

  it('speaks mTLS when the control plane demands a client certificate', async () => {
    const pki = testPki();
    const h = await start({
      fake: {
        tls: {
          certPem: pki.serverCertPem,
          keyPem: pki.serverKeyPem,
          caPem: pki.caPem,
          requireClientCert: true,
        },
      },
      settings: { clientCertFile: pki.clientCertFile, clientKeyFile: pki.clientKeyFile },
    });
    const instruction = runDraft({ runId: 'run-tls', connectionId: 'fixture-main' });
    h.fake.issue(instruction, AGENT_ID);
    expect(await acked(h, instruction['id'] as string)).toMatchObject({ accepted: true });
  });

  it('never sends back the settings values or reference names an inline connection carried', async () => {
    const h = await start();
    const canary = makeCanary();
    const envName = `FIXTURE_${canary.toUpperCase().replaceAll('-', '_')}`;
    const accepted = runDraft({
      runId: 'run-canary',
      connection: inlineConnection({
        baseUrl: `http://127.0.0.1:9/${canary}`,
        credentials: { secret: `env://${envName}` },
      }),
      params: { alsoFetch: `http://127.0.0.1:9/${canary}` },
    });
    const badHost = runDraft({
      runId: 'run-canary-host',
      connection: inlineConnection({ baseUrl: `https://${canary}.example.com` }),
    });
    const badRef = runDraft({
      runId: 'run-canary-ref',
      connection: inlineConnection({ credentials: { secret: `env://OTHER_${envName}` } }),
    });
    h.fake.issue([accepted, badHost, badRef], AGENT_ID);
    await acked(h, accepted['id'] as string);
    expect(await acked(h, badHost['id'] as string)).toMatchObject({
      accepted: false,
      code: 'POLICY_DENIED',
    });
    expect(await acked(h, badRef['id'] as string)).toMatchObject({
      accepted: false,
      code: 'JOB_INVALID',
    });
    await waitFor(() => h.fake.records.heartbeats.length >= 2, { what: 'heartbeats' });
    expect(h.target.runs.get('run-canary')?.connection?.config['baseUrl']).toContain(canary);
    expect(findCanary(canary, sentTexts(h.fake))).toEqual([]);
  });
});

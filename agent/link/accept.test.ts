import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { makeCanary } from '../../test/helpers/canary.ts';
import { captureLogs } from '../../test/helpers/capture-logs.ts';
import { InstructionSigner, draft, runDraft } from '../../test/fakes/control-plane/signing.ts';
import { MemoryInstructionTarget } from '../../test/fakes/memory-queue.ts';
import { createMetrics } from '../metrics/metrics.ts';
import { PerimeterError } from '../plugin-api/index.ts';
import { ackBody, ackableId, judgeInstruction, typeLabel } from './accept.ts';
import type { AcceptDeps, Verdict } from './accept.ts';
import { createMemoryInstructionLedger } from './ledger.ts';
import { inlineConnection, testRuntime } from '../../test/helpers/link-harness.ts';

const runtime = testRuntime(captureLogs(), createMetrics());
const signer = new InstructionSigner();
let target: MemoryInstructionTarget;
let deps: AcceptDeps;

beforeEach(() => {
  target = new MemoryInstructionTarget();
  deps = {
    publicKey: undefined,
    maxClockSkewMs: 0,
    prepare: (spec) => {
      runtime.prepare(spec);
    },
    ledger: createMemoryInstructionLedger(),
    target,
    now: Date.now,
  };
});

afterAll(async () => {
  await runtime.close();
});

function refusalCode(verdict: Verdict): string | undefined {
  return verdict.outcome === 'refused' ? verdict.error.code : undefined;
}

describe('judgeInstruction', () => {
  it('applies a valid run and acknowledges it as accepted', async () => {
    const verdict = await judgeInstruction(
      runDraft({ runId: 'run-1', connectionId: 'fixture-main' }),
      deps,
    );
    expect(verdict).toEqual({ outcome: 'accepted', result: 'queued' });
    expect(target.runs.get('run-1')).toMatchObject({
      origin: 'controlPlane',
      connectionId: 'fixture-main',
    });
  });

  it('does nothing for an id seen before', async () => {
    const instruction = runDraft({ runId: 'run-1', connectionId: 'fixture-main' });
    await judgeInstruction(instruction, deps);
    expect(await judgeInstruction(instruction, deps)).toEqual({ outcome: 'duplicate' });
    expect(target.callsFor('run-1')).toBe(1);
  });

  it.each([
    [
      'an unknown connector',
      { connection: inlineConnection({ connector: 'nosuch' }) },
      'CONNECTOR_UNKNOWN',
    ],
    ['an unknown connection id', { connectionId: 'nosuch' }, 'CONNECTION_UNKNOWN'],
    [
      'a reference outside the inline allowlist',
      { connection: inlineConnection({ credentials: { secret: 'env://OTHER_SECRET' } }) },
      'JOB_INVALID',
    ],
    [
      'a literal credential',
      { connection: inlineConnection({ credentials: { secret: 'hunter2-literal' } }) },
      'JOB_INVALID',
    ],
    [
      'a host outside the policy',
      { connection: inlineConnection({ baseUrl: 'https://evil.example.com' }) },
      'POLICY_DENIED',
    ],
    [
      'params the connector refuses',
      { connectionId: 'fixture-main', params: { attemptWrite: 'yes' } },
      'JOB_INVALID',
    ],
  ])('refuses a run with %s through the runtime prepare', async (_name, run, code) => {
    const instruction = runDraft({ runId: 'run-x', connectionId: undefined, ...run });
    expect(refusalCode(await judgeInstruction(instruction, deps))).toBe(code);
    // Refused, so released: a redelivery is judged again rather than passed as a duplicate.
    expect(refusalCode(await judgeInstruction(instruction, deps))).toBe(code);
    expect(target.calls).toEqual([]);
  });

  it('refuses a schedule whose run names an unknown connection', async () => {
    const instruction = draft('schedule', {
      schedule: {
        scheduleId: 'nightly',
        everySeconds: 3600,
        run: { connectionId: 'nosuch', operation: 'extract' },
      },
    });
    expect(refusalCode(await judgeInstruction(instruction, deps))).toBe('CONNECTION_UNKNOWN');
  });

  it('applies schedules, unschedules and cancels, idempotently', async () => {
    const schedule = {
      scheduleId: 'nightly',
      cron: '0 2 * * *',
      run: { connectionId: 'fixture-main', operation: 'extract' },
    };
    expect(await judgeInstruction(draft('schedule', { schedule }), deps)).toEqual({
      outcome: 'accepted',
      result: 'scheduled',
    });
    expect(
      await judgeInstruction(draft('unschedule', { unschedule: { scheduleId: 'nightly' } }), deps),
    ).toEqual({
      outcome: 'accepted',
      result: 'removed',
    });
    expect(await judgeInstruction(draft('cancel', { cancel: { runId: 'gone' } }), deps)).toEqual({
      outcome: 'accepted',
      result: 'unknown',
    });
  });

  it('checks signature and window before it records the id', async () => {
    const pinned = { ...deps, publicKey: signer.publicKey };
    const instruction = runDraft({ runId: 'run-1', connectionId: 'fixture-main' });
    expect(refusalCode(await judgeInstruction(instruction, pinned))).toBe('INSTRUCTION_UNSIGNED');
    const expired = signer.sign(
      runDraft({ runId: 'run-1', connectionId: 'fixture-main' }, { shiftMs: -3_600_000 }),
    );
    expect(refusalCode(await judgeInstruction(expired, pinned))).toBe('INSTRUCTION_EXPIRED');
    expect(await judgeInstruction(signer.sign(instruction), pinned)).toEqual({
      outcome: 'accepted',
      result: 'queued',
    });
  });

  it('defers an instruction the target cannot take now and applies its redelivery', async () => {
    const instruction = runDraft({ runId: 'run-1', connectionId: 'fixture-main' });
    target.failWith = new PerimeterError('REDIS_UNAVAILABLE', 'Redis is down');
    expect((await judgeInstruction(instruction, deps)).outcome).toBe('deferred');
    target.failWith = undefined;
    expect(await judgeInstruction(instruction, deps)).toEqual({
      outcome: 'accepted',
      result: 'queued',
    });
  });

  it('refuses when the target fails for good', async () => {
    target.failWith = new PerimeterError('INTERNAL', 'broken');
    const verdict = await judgeInstruction(
      runDraft({ runId: 'run-1', connectionId: 'fixture-main' }),
      deps,
    );
    expect(refusalCode(verdict)).toBe('INTERNAL');
  });
});

describe('ackBody', () => {
  it.each([
    ['host', 'POLICY_DENIED', "connection: the api endpoint's host […]"],
    ['reference', 'JOB_INVALID', 'connection.credentials.secret'],
  ])('never echoes a %s of the connection in a refusal', async (where, code, path) => {
    const canary = makeCanary();
    const envName = `OTHER_${canary.toUpperCase().replaceAll('-', '_')}`;
    const connection =
      where === 'host'
        ? inlineConnection({ baseUrl: `https://${canary}.example.com/api` })
        : inlineConnection({ credentials: { secret: `env://${envName}` } });
    const instruction = runDraft({
      runId: 'run-1',
      connection,
      params: { alsoFetch: `https://${canary}.example.com` },
    });
    const verdict = await judgeInstruction(instruction, deps);
    if (verdict.outcome !== 'refused') {
      throw new Error(`expected a refusal, got ${verdict.outcome}`);
    }
    // The error itself may name it (it stays in local logs); the ack sent out must not.
    const body = ackBody(verdict, instruction);
    expect(body).toMatchObject({ accepted: false, error: { code } });
    const text = JSON.stringify(body).toLowerCase();
    expect(text).toContain(path);
    expect(text).not.toContain(canary.toLowerCase());
  });

  it('acknowledges accepted and duplicate verdicts as accepted', () => {
    expect(ackBody({ outcome: 'duplicate' }, {})).toEqual({ accepted: true });
    expect(ackBody({ outcome: 'accepted', result: 'queued' }, {})).toEqual({ accepted: true });
  });

  it('acknowledges only ids of the protocol form, and labels types from a fixed set', () => {
    expect(ackableId({ id: 'ins-1' })).toBe('ins-1');
    expect(ackableId({ id: 'a/b' })).toBeUndefined();
    expect(ackableId('junk')).toBeUndefined();
    expect(typeLabel({ type: 'cancel' })).toBe('cancel');
    expect(typeLabel({ type: 'drop-tables' })).toBe('unknown');
  });
});

// A compromised control plane, as one suite (issue 15, item 3), and the leak scan over everything
// the suite's world captured (item 4). The agent runs as a child process on the shared Redis; the
// control plane signs with the key the agent pins, so every attack below comes from a party the
// agent otherwise trusts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RawInstruction, runDraft } from '../../fakes/control-plane/server.ts';
import type { InstructionDraft, RecordedAck } from '../../fakes/control-plane/server.ts';
import { waitFor } from '../../helpers/wait-for.ts';
import { captureWorld, scanForCanaries } from '../capture.ts';
import { proofMode, proofRuns } from '../mode.ts';
import { AGENT_ID, startAttackWorld } from './world.ts';
import type { AttackWorld } from './world.ts';

const FLOOD = proofRuns({ ci: 1_000, long: 10_000 });
const FLOOD_TIMEOUT_MS = proofRuns({ ci: 240_000, long: 1_200_000 });
const MAX_WAITING_RUNS = proofRuns({ ci: 20, long: 500 });

let world: AttackWorld;

beforeAll(async () => {
  world = await startAttackWorld({ maxWaitingRuns: MAX_WAITING_RUNS });
}, 120_000);

afterAll(async () => {
  // Undefined when the world failed to start (the error is beforeAll's).
  await (world as AttackWorld | undefined)?.close();
});

const signed = (instruction: InstructionDraft): InstructionDraft =>
  world.controlPlane.signer.sign(instruction);

/** Issues instructions and waits until each was acknowledged; returns the first ack of each. */
async function issueAndAck(
  items: readonly (InstructionDraft | RawInstruction)[],
  timeoutMs = 60_000,
): Promise<RecordedAck[]> {
  world.controlPlane.issue(items, AGENT_ID);
  const ids = items.map((item) => String(item.id));
  await waitFor(
    () => {
      const acked = new Set(world.controlPlane.records.acks.map((ack) => ack.instructionId));
      return ids.every((id) => acked.has(id));
    },
    {
      timeoutMs,
      intervalMs: 100,
      what: `${ids.length} acks`,
    },
  );
  const first = new Map<string, RecordedAck>();
  for (const ack of world.controlPlane.records.acks) {
    if (!first.has(ack.instructionId)) {
      first.set(ack.instructionId, ack);
    }
  }
  return ids.map((id) => first.get(id)!);
}

/** The terminal event of a run (succeeded, failed, cancelled, awaiting_review), once it arrives. */
async function outcome(runId: string): Promise<{ type: string; code: unknown }> {
  const event = await waitFor(
    () =>
      world.controlPlane.records
        .runEvents(runId)
        .find((e) => ['succeeded', 'failed', 'cancelled', 'awaiting_review'].includes(e.type)),
    { timeoutMs: 60_000, intervalMs: 100, what: `run ${runId} to end` },
  );
  const error = event['error'] as { code?: unknown } | undefined;
  return { type: event.type, code: error?.code ?? event['code'] };
}

async function expectReady(): Promise<void> {
  const ready = await world.agent.get('/readyz');
  expect(ready.status, ready.text).toBe(200);
}

function forbiddenConnections(): Record<string, number> {
  return {
    exfil: world.forbidden.exfil.connections(),
    redirectTarget: world.forbidden.redirectTarget.connections(),
  };
}

/** The attacks and what each ended as, for the suite's figures. */
const table: { attack: string; code: string }[] = [];

describe('a compromised control plane (the agent as a child process)', () => {
  it('refuses every hostile instruction with its code, reports it, and stays ready', async () => {
    const now = Date.now();
    const deepParams = `${'['.repeat(10_000)}${']'.repeat(10_000)}`;
    const deepId = 'atk-deep-10000';
    const deep = new RawInstruction(
      `{"id":"${deepId}","type":"run","issuedAt":"${new Date(now).toISOString()}","expiresAt":"${new Date(now + 600_000).toISOString()}","run":{"runId":"atk-deep","operation":"extract","connectionId":"fx","params":{"x":${deepParams}}}}`,
      deepId,
    );
    const cases: {
      attack: string;
      instruction: InstructionDraft | RawInstruction;
      code: string;
    }[] = [
      {
        attack: 'inline connection: a real secret reference sent to another host',
        instruction: signed(
          runDraft({
            runId: 'atk-inline-host',
            connection: {
              connector: 'fixture',
              baseUrl: world.forbidden.exfil.url,
              credentials: { secret: 'env://FIXTURE_SECRET' },
            },
          }),
        ),
        code: 'POLICY_DENIED',
      },
      {
        attack: 'inline connection: a secret reference outside the allowlist',
        instruction: signed(
          runDraft({
            runId: 'atk-inline-ref',
            connection: {
              connector: 'fixture',
              baseUrl: world.source.url,
              credentials: { secret: 'env://ATK_AGENT_TOKEN' },
            },
          }),
        ),
        code: 'JOB_INVALID',
      },
      {
        attack: 'instruction of 10 MB',
        instruction: signed(
          runDraft({
            runId: 'atk-huge',
            connectionId: 'fx',
            params: { pad: 'x'.repeat(10 * 1024 * 1024) },
          }),
        ),
        code: 'INSTRUCTION_INVALID',
      },
      {
        attack: 'instruction nested 10,000 deep',
        instruction: deep,
        code: 'INSTRUCTION_INVALID',
      },
      {
        attack: 'expired instruction',
        instruction: signed(
          runDraft({ runId: 'atk-expired', connectionId: 'fx' }, { shiftMs: -3_600_000 }),
        ),
        code: 'INSTRUCTION_EXPIRED',
      },
      {
        attack: 'tampered instruction (params changed after signing)',
        instruction: world.controlPlane.signer.tamper(
          runDraft({ runId: 'atk-tampered', connectionId: 'fx' }),
          (copy) => {
            (copy['run'] as Record<string, unknown>)['params'] = { attemptWrite: true };
          },
        ),
        code: 'INSTRUCTION_SIGNATURE_INVALID',
      },
      {
        attack: 'instruction signed with a foreign key',
        instruction: world.controlPlane.signer.signWithOtherKey(
          runDraft({ runId: 'atk-foreign', connectionId: 'fx' }),
        ),
        code: 'INSTRUCTION_SIGNATURE_INVALID',
      },
      {
        attack: 'unsigned instruction',
        instruction: runDraft({ runId: 'atk-unsigned', connectionId: 'fx' }),
        code: 'INSTRUCTION_UNSIGNED',
      },
    ];
    const acks = await issueAndAck(cases.map((c) => c.instruction));
    expect(acks.map((ack) => [ack.accepted, ack.code])).toEqual(cases.map((c) => [false, c.code]));
    // The reference's own refusal, inside the run's problems.
    expect(acks[1]!.message).toContain('SECRET_REF_DENIED');
    for (const [index, ack] of acks.entries()) {
      table.push({ attack: cases[index]!.attack, code: ack.code ?? '' });
    }
    // None of them became a run.
    for (const runId of ['atk-inline-host', 'atk-inline-ref', 'atk-huge', 'atk-deep']) {
      expect(world.controlPlane.records.runEvents(runId)).toEqual([]);
    }
    expect(forbiddenConnections()).toEqual({ exfil: 0, redirectTarget: 0 });
    await expectReady();
  });

  it('fails, with its code, every run turned against a source or another host: no byte reaches a forbidden host and no write reaches the source', async () => {
    const runs = [
      {
        attack: 'redirect from an allowed host to another',
        runId: 'atk-redirect',
        params: { alsoFetch: `${world.redirectorUrl}/v1/items` },
      },
      {
        attack: 'a connector asked to fetch from another host',
        runId: 'atk-other-host',
        params: { alsoFetch: `${world.forbidden.exfil.url}/v1/items` },
      },
      {
        attack: 'a connector asked for a non-GET call',
        runId: 'atk-write',
        params: { attemptWrite: true },
      },
    ];
    const acks = await issueAndAck(
      runs.map((run) =>
        signed(runDraft({ runId: run.runId, connectionId: 'fx', params: run.params })),
      ),
    );
    expect(acks.map((ack) => ack.accepted)).toEqual(runs.map(() => true));
    const outcomes = await Promise.all(runs.map((run) => outcome(run.runId)));
    for (const [index, run] of runs.entries()) {
      const ended = outcomes[index]!;
      expect(ended.type, run.attack).toBe('failed');
      table.push({ attack: run.attack, code: `${String(ended.code)} (run failed)` });
    }
    expect(outcomes.map((ended) => ended.code)).toEqual([
      'POLICY_DENIED',
      'POLICY_DENIED',
      'POLICY_DENIED',
    ]);
    expect(
      world.source
        .requests()
        .filter((request) => !request.startsWith('GET ') && request !== 'POST /v1/token'),
    ).toEqual([]);
    expect(forbiddenConnections()).toEqual({ exfil: 0, redirectTarget: 0 });
    await expectReady();
  });

  it('runs a replayed instruction once: the same id again, and the same run under a new id', async () => {
    const genuine = signed(runDraft({ runId: 'atk-replayed', connectionId: 'fx' }));
    await issueAndAck([genuine]);
    expect((await outcome('atk-replayed')).type).toBe('succeeded');
    const again = await issueAndAck([{ ...genuine }]);
    const sameRun = await issueAndAck([
      signed(runDraft({ runId: 'atk-replayed', connectionId: 'fx' })),
    ]);
    // Acknowledged (the control plane must stop redelivering), never run again.
    expect([...again, ...sameRun].map((ack) => ack.accepted)).toEqual([true, true]);
    await expectReady();
    const completes = world.catalog.completes.filter((call) => call.runId === 'atk-replayed');
    expect(completes).toHaveLength(1);
    expect(
      world.controlPlane.records.runEvents('atk-replayed').filter((e) => e.type === 'started'),
    ).toHaveLength(1);
    table.push({
      attack: 'replayed instruction (same id; same run, new id)',
      code: 'acknowledged, not run again',
    });
  });

  it('runs every connector and every store, on their success and failure paths', async () => {
    const runs: { runId: string; connectionId: string; expect: string }[] = [
      { runId: 'world-cyera', connectionId: 'cyera', expect: 'succeeded' },
      { runId: 'world-cyral', connectionId: 'cyral', expect: 'awaiting_review' },
      { runId: 'world-anaplan', connectionId: 'anaplan', expect: 'succeeded' },
      { runId: 'world-cyera-401', connectionId: 'cyera-wrong', expect: 'failed' },
      ...Object.entries(world.storeConnections).map(([store, connectionId]) => ({
        runId: `world-store-${store}`,
        connectionId,
        expect: store === 'vault-bad' ? 'failed' : 'succeeded',
      })),
    ];
    await issueAndAck(
      runs.map((run) => signed(runDraft({ runId: run.runId, connectionId: run.connectionId }))),
    );
    const outcomes = await Promise.all(runs.map((run) => outcome(run.runId)));
    expect(
      Object.fromEntries(runs.map((run, index) => [run.runId, outcomes[index]!.type])),
    ).toEqual(Object.fromEntries(runs.map((run) => [run.runId, run.expect])));
    const codes = Object.fromEntries(runs.map((run, index) => [run.runId, outcomes[index]!.code]));
    expect(codes['world-cyera-401']).toBe('SOURCE_AUTH_FAILED');
    expect(codes['world-store-vault-bad']).toBe('SECRET_ACCESS_DENIED');
    await expectReady();
  });

  it(
    `refuses a flood of ${FLOOD} instructions beyond queue.maxWaitingRuns with QUEUE_FULL, each reported, and stays ready`,
    async () => {
      const items = Array.from({ length: FLOOD }, (_, index) =>
        signed(runDraft({ runId: `flood-${index}`, connectionId: 'flood' })),
      );
      const started = performance.now();
      let notReady = 0;
      const flood = { on: true };
      const probing = (async () => {
        while (flood.on) {
          if ((await world.agent.get('/readyz')).status !== 200) {
            notReady += 1;
          }
          await new Promise((resolve) => setTimeout(resolve, 200));
        }
      })();
      const acks = await issueAndAck(items, FLOOD_TIMEOUT_MS - 30_000).finally(() => {
        flood.on = false;
      });
      const seconds = (performance.now() - started) / 1000;
      await probing;
      const accepted = acks.filter((ack) => ack.accepted).length;
      const refused = acks.filter((ack) => !ack.accepted);
      console.info(
        `flood (${proofMode}): ${FLOOD} instructions, ${accepted} accepted, ${refused.length} refused with QUEUE_FULL, all acknowledged in ${seconds.toFixed(1)} s`,
      );
      expect(accepted + refused.length).toBe(FLOOD);
      expect(accepted).toBeGreaterThanOrEqual(MAX_WAITING_RUNS);
      expect(refused.length).toBeGreaterThan(0);
      expect(new Set(refused.map((ack) => ack.code))).toEqual(new Set(['QUEUE_FULL']));
      expect(notReady).toBe(0);
      await expectReady();
      table.push({
        attack: `flood of ${FLOOD} instructions`,
        code: `${accepted} accepted, ${refused.length} QUEUE_FULL, in ${seconds.toFixed(1)} s`,
      });
    },
    FLOOD_TIMEOUT_MS,
  );

  it('leaks no credential of any connector or store, in any form, into anything captured', async () => {
    expect(forbiddenConnections()).toEqual({ exfil: 0, redirectTarget: 0 });
    const captured = await captureWorld({
      agents: [world.agent],
      redis: world.redis,
      prefix: world.prefix,
      controlPlane: world.controlPlane.records.requests,
      catalog: world.catalog.requests,
      ownTokens: { controlPlane: world.controlPlane.token, catalog: world.catalogToken },
      dirs: world.outputDirs,
      extra: Object.fromEntries(
        world.controlPlane.records.acks.map((ack, index) => [`ack#${index}`, ack.message ?? '']),
      ),
    });
    world.agent.kill('SIGTERM');
    expect((await world.agent.exited).code).toBe(0);
    captured['attacks/logs'] = world.agent.output();
    const scan = scanForCanaries(world.canaries(), captured);
    console.info(
      `leak scan: ${scan.canaries} canaries × ${scan.captures} captures (${(scan.bytes / 1e6).toFixed(1)} MB), ${scan.leaks.length} leaks`,
    );
    console.info(table.map((row) => `${row.attack} -> ${row.code}`).join('\n'));
    expect(scan.captures).toBeGreaterThan(100);
    expect(scan.canaries).toBeGreaterThan(20);
    expect(scan.leaks).toEqual([]);
  });
});

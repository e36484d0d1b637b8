import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ERROR_CODES } from '../../agent/plugin-api/index.ts';
import { startCatalogReceiver } from '../fakes/catalog-receiver.ts';
import type { CatalogReceiver } from '../fakes/catalog-receiver.ts';
import { malformedInstructions } from '../fakes/control-plane/malformed.ts';
import { runDraft, startFakeControlPlane } from '../fakes/control-plane/server.ts';
import type { FakeControlPlane } from '../fakes/control-plane/server.ts';
import { startFixtureSource } from '../fakes/fixture/source.ts';
import type { FixtureSource } from '../fakes/fixture/source.ts';
import { makeCanary } from '../helpers/canary.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { REDIS_URL, deleteKeys, uniquePrefix } from '../integration/support/redis.ts';
import { spawnAgent, stopAgent, writeConfig } from './support/agent.ts';
import type { AgentProcess } from './support/agent.ts';
import { e2eConfig } from './support/config.ts';

const AGENT_ID = 'e2e-cp-faults';
const canary = makeCanary('fixture-secret');
let source: FixtureSource;
let catalog: CatalogReceiver;
let cp: FakeControlPlane;
let redis: Redis;
let prefix: string;
let agent: AgentProcess;

const succeeded = (runId: string): boolean =>
  cp.records.runEvents(runId).some((e) => e.type === 'succeeded');

beforeAll(async () => {
  source = await startFixtureSource({ items: 60, secret: canary });
  catalog = await startCatalogReceiver();
  cp = await startFakeControlPlane({ leaseMs: 5_000, maxPerPoll: 100 });
  redis = new Redis(REDIS_URL);
  prefix = uniquePrefix('e2e-cp-faults');
  const config = e2eConfig({
    redisUrl: REDIS_URL,
    prefix,
    catalogUrl: catalog.url,
    sourceUrl: source.url,
    agentId: AGENT_ID,
    runsPerConnection: 4,
    controlPlane: {
      url: cp.url,
      agentToken: 'env://CP_TOKEN',
      publicKey: cp.signer.publicKeyPem,
      pollWaitSeconds: 1,
      heartbeatIntervalSeconds: 1,
      backoff: { baseMs: 100, maxMs: 800 },
    },
  });
  agent = await spawnAgent({
    name: 'cp-faults',
    configPath: writeConfig(config),
    env: { FIXTURE_SECRET: canary, CP_TOKEN: cp.token },
  });
});

afterAll(async () => {
  await stopAgent(agent);
  await deleteKeys(redis, prefix);
  redis.disconnect();
  await Promise.all([source.close(), catalog.close(), cp.close()]);
});

describe('the agent against a faulty or hostile control plane (child process)', () => {
  it('refuses and reports a tampered, an unsigned and a foreign-signed instruction, and runs the genuine one', async () => {
    const genuine = cp.signer.sign(runDraft({ runId: 'run-genuine', connectionId: 'fx' }));
    const tampered = cp.signer.tamper(
      runDraft({ runId: 'run-tampered', connectionId: 'fx' }),
      (copy) => {
        (copy['run'] as Record<string, unknown>)['params'] = { attemptWrite: true };
      },
    );
    const unsigned = runDraft({ runId: 'run-unsigned', connectionId: 'fx' });
    const foreign = cp.signer.signWithOtherKey(
      runDraft({ runId: 'run-foreign', connectionId: 'fx' }),
    );
    cp.issue([tampered, unsigned, foreign, genuine], AGENT_ID);
    await waitFor(() => succeeded('run-genuine'), { timeoutMs: 30_000, what: 'the genuine run' });
    const codeOf = (draft: Record<string, unknown>): string | undefined =>
      cp.records.acksOf(draft['id'] as string)[0]?.code;
    expect(codeOf(tampered)).toBe('INSTRUCTION_SIGNATURE_INVALID');
    expect(codeOf(unsigned)).toBe('INSTRUCTION_UNSIGNED');
    expect(codeOf(foreign)).toBe('INSTRUCTION_SIGNATURE_INVALID');
    expect(
      ['run-tampered', 'run-unsigned', 'run-foreign'].map((id) => cp.records.runEvents(id).length),
    ).toEqual([0, 0, 0]);
  });

  it('stays up and answering through 1,000 malformed instructions, refusing each with a stable code', async () => {
    const set = malformedInstructions({ count: 1000, seed: 7, connectionId: 'fx' });
    // Objects are signed (the signature is genuine, the content broken); what cannot even be
    // canonicalised (200 levels deep) or is not an object goes out unsigned.
    const signed = set.items.map((item) => {
      try {
        return typeof item === 'object' && item !== null && !Array.isArray(item)
          ? cp.signer.sign(item as Record<string, unknown>)
          : item;
      } catch {
        return item;
      }
    });
    cp.issue(signed, AGENT_ID);
    const ackable = set.malformed.filter((m) => m.id !== undefined);
    await waitFor(() => ackable.every((m) => cp.records.acksOf(m.id ?? '').length > 0), {
      timeoutMs: 90_000,
      intervalMs: 200,
      what: 'every malformed instruction acknowledged',
    });
    for (const { id } of ackable) {
      const ack = cp.records.acksOf(id ?? '')[0];
      expect(ack?.accepted).toBe(false);
      expect(Object.keys(ERROR_CODES)).toContain(ack?.code);
    }
    await waitFor(() => set.valid.every((id) => succeeded(`run-${id}`)), {
      timeoutMs: 60_000,
      what: 'the valid runs among them',
    });
    expect((await agent.get('/livez')).status).toBe(200);
    expect((await agent.get('/readyz')).status).toBe(200);
  });

  it('backs off with jitter while the control plane is down, then delivers every pending event in order', async () => {
    source.always({ status: 200, delayMs: 150 });
    cp.issue(
      cp.signer.sign(runDraft({ runId: 'run-through-outage', connectionId: 'fx' })),
      AGENT_ID,
    );
    await waitFor(
      () => cp.records.runEvents('run-through-outage').some((e) => e.type === 'started'),
      { timeoutMs: 30_000, what: 'the run to start' },
    );
    const before = agent.records().length;
    await cp.down(3_000);
    await waitFor(() => succeeded('run-through-outage'), {
      timeoutMs: 60_000,
      what: 'the run events after the outage',
    });
    source.restore();
    const events = cp.records.runEvents('run-through-outage');
    expect(events.map((e) => e.seq)).toEqual(events.map((_, index) => index));
    expect(events.map((e) => e.type).filter((t) => t !== 'progress')).toEqual([
      'queued',
      'started',
      'succeeded',
    ]);
    expect(catalog.completes.some((c) => c.runId === 'run-through-outage')).toBe(true);
    const delays = agent
      .records()
      .slice(before)
      .filter((r) => r.msg === 'Control-plane call failed' && typeof r['delayMs'] === 'number')
      .map((r) => r['delayMs'] as number);
    expect(delays.length).toBeGreaterThan(2);
    expect(Math.max(...delays)).toBeLessThanOrEqual(800);
    expect(new Set(delays).size).toBeGreaterThan(1);
  });
});

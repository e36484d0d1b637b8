import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCatalogReceiver } from '../fakes/catalog-receiver.ts';
import type { CatalogReceiver } from '../fakes/catalog-receiver.ts';
import { draft, runDraft, startFakeControlPlane } from '../fakes/control-plane/server.ts';
import type { FakeControlPlane } from '../fakes/control-plane/server.ts';
import { startFixtureSource } from '../fakes/fixture/source.ts';
import type { FixtureSource } from '../fakes/fixture/source.ts';
import { findCanary, makeCanary } from '../helpers/canary.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { REDIS_URL, deleteKeys, dumpKeys, uniquePrefix } from '../integration/support/redis.ts';
import { spawnAgent, stopAgent, writeConfig } from './support/agent.ts';
import type { AgentProcess } from './support/agent.ts';
import { e2eConfig } from './support/config.ts';

const AGENT_ID = 'e2e-split';
const RUNS = 200;
const canary = makeCanary('fixture-secret');

let source: FixtureSource;
let catalog: CatalogReceiver;
let cp: FakeControlPlane;
let redis: Redis;
let prefix: string;
let link: AgentProcess;
let workers: AgentProcess[];

beforeAll(async () => {
  source = await startFixtureSource({ items: 5, secret: canary });
  catalog = await startCatalogReceiver();
  cp = await startFakeControlPlane({ leaseMs: 5_000 });
  redis = new Redis(REDIS_URL);
  prefix = uniquePrefix('e2e-cp');
  const configPath = writeConfig(
    e2eConfig({
      redisUrl: REDIS_URL,
      prefix,
      catalogUrl: catalog.url,
      sourceUrl: source.url,
      agentId: AGENT_ID,
      runsPerConnection: 8,
      queue: { concurrency: 4 },
      controlPlane: {
        url: cp.url,
        agentToken: 'env://CP_TOKEN',
        publicKey: cp.signer.publicKeyPem,
        pollWaitSeconds: 1,
        heartbeatIntervalSeconds: 1,
        backoff: { baseMs: 50, maxMs: 500 },
      },
    }),
  );
  const env = { FIXTURE_SECRET: canary, CP_TOKEN: cp.token };
  [link, ...workers] = await Promise.all([
    spawnAgent({ name: 'link', configPath, role: 'link', env }),
    spawnAgent({ name: 'worker-1', configPath, role: 'worker', env }),
    spawnAgent({ name: 'worker-2', configPath, role: 'worker', env }),
  ]);
});

afterAll(async () => {
  await Promise.all([link, ...workers].map((agent) => stopAgent(agent)));
  await deleteKeys(redis, prefix);
  redis.disconnect();
  await Promise.all([source.close(), catalog.close(), cp.close()]);
});

describe('split roles against the control plane', () => {
  it('runs 200 issued runs exactly once each, on two worker processes, with every run’s events in order', async () => {
    const ids = Array.from({ length: RUNS }, (_, index) => `run-${String(index).padStart(3, '0')}`);
    cp.issue(
      ids.map((runId) => cp.signer.sign(runDraft({ runId, connectionId: 'fx' }))),
      AGENT_ID,
    );
    await waitFor(
      () =>
        ids.every((runId) =>
          cp.records.runEvents(runId).some((event) => event.type === 'succeeded'),
        ),
      {
        timeoutMs: 90_000,
        intervalMs: 200,
        what: 'every run to succeed',
      },
    );
    for (const runId of ids) {
      const events = cp.records.runEvents(runId);
      expect(events.map((event) => event.seq)).toEqual(events.map((_, index) => index));
      // Progress is throttled, so a run may report it or not; the lifecycle around it is fixed.
      const lifecycle = events.map((event) => event.type).filter((type) => type !== 'progress');
      expect(lifecycle).toEqual(['queued', 'started', 'succeeded']);
    }
    const completes = catalog.completes.map((call) => call.runId);
    expect(new Set(completes).size).toBe(RUNS);
    expect(completes).toHaveLength(RUNS);
    expect(source.requests().filter((request) => request === 'POST /v1/token')).toHaveLength(RUNS);
    const perWorker = workers.map(
      (worker) => worker.records().filter((r) => r.msg === 'Run succeeded').length,
    );
    expect(perWorker.reduce((a, b) => a + b, 0)).toBe(RUNS);
    expect(perWorker.every((count) => count > 0)).toBe(true);
    expect(cp.records.acks.filter((ack) => ack.accepted)).toHaveLength(RUNS);
  });

  it('stops a running run within a second of a cancel instruction', async () => {
    source.always({ status: 200, delayMs: 5_000 });
    try {
      cp.issue([cp.signer.sign(runDraft({ runId: 'run-long', connectionId: 'fx' }))], AGENT_ID);
      await waitFor(
        () => cp.records.runEvents('run-long').some((event) => event.type === 'started'),
        { timeoutMs: 20_000 },
      );
      const cancel = cp.signer.sign(draft('cancel', { cancel: { runId: 'run-long' } }));
      cp.issue([cancel], AGENT_ID);
      await waitFor(() => cp.records.acksOf(String(cancel['id'])).length > 0, {
        timeoutMs: 10_000,
      });
      const ackedAt =
        cp.records.requests.find((request) =>
          request.path.startsWith(`/v1/instructions/${String(cancel['id'])}/ack`),
        )?.atMs ?? 0;
      const stopped = await waitFor(
        () =>
          workers
            .flatMap((worker) => worker.records())
            .find((r) => r.msg === 'Run did not succeed' && r['runId'] === 'run-long'),
        { timeoutMs: 5_000 },
      );
      expect(stopped['code']).toBe('RUN_CANCELLED');
      expect(Date.parse(String(stopped['time'])) - ackedAt).toBeLessThan(1_000);
      await waitFor(
        () => cp.records.runEvents('run-long').some((event) => event.type === 'cancelled'),
        { timeoutMs: 10_000 },
      );
      expect(cp.records.runEvents('run-long').map((event) => event.type)).toEqual([
        'queued',
        'started',
        'cancelled',
      ]);
    } finally {
      source.restore();
    }
  });

  it('never lets the fixture secret reach Redis, the control plane, /status, /metrics or the logs, and drains to exit 0', async () => {
    const health: Record<string, string> = {};
    for (const agent of [link, ...workers]) {
      health[`${agent.name}/status`] = (await agent.get('/status')).text;
      health[`${agent.name}/metrics`] = (await agent.get('/metrics')).text;
    }
    const sentToControlPlane = Object.fromEntries(
      cp.records.requests.map((request, index) => [
        `cp#${index}`,
        `${request.path}\n${JSON.stringify(request.headers)}\n${request.body.toString('utf8')}`,
      ]),
    );
    const redisDump = await dumpKeys(redis, prefix);
    expect(Object.keys(redisDump).length).toBeGreaterThan(0);
    for (const agent of [link, ...workers]) {
      agent.kill('SIGTERM');
    }
    const exits = await Promise.all([link, ...workers].map((agent) => agent.exited));
    expect(exits.map((exit) => exit.code)).toEqual([0, 0, 0]);
    const logs = Object.fromEntries(
      [link, ...workers].map((agent) => [`${agent.name}/logs`, agent.output()]),
    );
    expect(findCanary(canary, { ...health, ...sentToControlPlane, ...redisDump, ...logs })).toEqual(
      [],
    );
    expect(findCanary(cp.token, { ...redisDump, ...logs, ...health })).toEqual([]);
  });
});

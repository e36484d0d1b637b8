// Dispatch cost: control-plane instructions through link → queue → `started`, against bare
// BullMQ adding and processing no-op jobs on the same Redis, in the same run.
//   node bench/dispatch.ts      (DISPATCH_RUNS, DISPATCH_RATE, DISPATCH_CONCURRENCY and
//                                 DISPATCH_ISOLATION, thread or none, to change)
//
// One agent process (`start`, link and worker in one, the fixture connector) polls a fake
// control plane; every run reads one fixture item and pushes it to a catalog receiver. Two phases
// for each side, the bare side first:
//   - paced: DISPATCH_RUNS instructions issued at DISPATCH_RATE per second; the latency of each
//     is from `issue` to the arrival of its `started` event at the control plane (for bare
//     BullMQ: from `add` to the processor being called);
//   - burst: DISPATCH_RUNS instructions issued at once; runs/s is their count over the time from
//     the issue to the last `started`.
// Before them, CONCURRENCY × 2 instructions at once warm the agent up (its run threads start on
// the first runs) and are not measured. The agent's CPU seconds (/proc/PID/stat) over both
// phases give its CPU per run; this process's own (the fake control plane, the fixture source
// and the catalog receiver, which every run calls) is reported beside it. Set
// DISPATCH_AGENT_NODE_OPTIONS (e.g. `--cpu-prof --cpu-prof-dir=DIR`) to profile the agent: they
// are given to node before the entry, so its run threads write profiles of their own too.
import { readFileSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { spawnAgent, stopAgent, writeConfig } from '../test/e2e/support/agent.ts';
import type { AgentProcess } from '../test/e2e/support/agent.ts';
import { e2eConfig } from '../test/e2e/support/config.ts';
import { startCatalogReceiver } from '../test/fakes/catalog-receiver.ts';
import { runDraft, startFakeControlPlane } from '../test/fakes/control-plane/server.ts';
import type { FakeControlPlane } from '../test/fakes/control-plane/server.ts';
import { startFixtureSource } from '../test/fakes/fixture/source.ts';
import { REDIS_URL, deleteKeys, uniquePrefix } from '../test/integration/support/redis.ts';
import { removeFileTempDirs } from '../test/helpers/temp-dir.ts';

const RUNS = Number(process.env['DISPATCH_RUNS'] ?? 2_000);
const RATE = Number(process.env['DISPATCH_RATE'] ?? 50);
const CONCURRENCY = Number(process.env['DISPATCH_CONCURRENCY'] ?? 8);
/** `queue.isolation` of the agent; its default (a thread per run in the daemon) when unset. */
const ISOLATION = process.env['DISPATCH_ISOLATION'];
const AGENT_ID = 'bench-dispatch';
/** Runs before the measured phases, enough to start every run thread. */
const WARMUP_RUNS = CONCURRENCY * 2;
const TICK_MS = 20;
const TICKS_PER_SECOND = 100;

interface Phase {
  readonly latenciesMs: number[];
  readonly runsPerSecond: number;
}

function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
}

function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

/** Calls `issue(i)` for i in [0, count) at `rate` per second (in 20 ms ticks); at once if rate is 0. */
async function issuePaced(
  count: number,
  rate: number,
  issue: (index: number) => void,
): Promise<void> {
  if (rate <= 0) {
    for (let index = 0; index < count; index += 1) {
      issue(index);
    }
    return;
  }
  const start = performance.now();
  let issued = 0;
  while (issued < count) {
    const due = Math.min(count, Math.floor(((performance.now() - start) * rate) / 1_000) + 1);
    for (; issued < due; issued += 1) {
      issue(issued);
    }
    await sleep(TICK_MS);
  }
}

async function waitUntil(check: () => boolean, what: string, timeoutMs = 600_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${what}`);
    }
    await sleep(25);
  }
}

// ---- bare BullMQ ----

async function barePhase(rate: number): Promise<Phase> {
  const prefix = uniquePrefix('bench-dispatch-bare');
  const connection = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  const workerConnection = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  const queue = new Queue('bare', { connection, prefix });
  const addedAt = new Map<string, number>();
  const latencies: number[] = [];
  let lastStart = 0;
  const worker = new Worker(
    'bare',
    async (job) => {
      lastStart = performance.now();
      latencies.push(lastStart - (addedAt.get(job.id ?? '') ?? lastStart));
      await Promise.resolve();
    },
    { connection: workerConnection, prefix, concurrency: CONCURRENCY },
  );
  await worker.waitUntilReady();
  const start = performance.now();
  await issuePaced(RUNS, rate, (index) => {
    const id = `bare-${index}`;
    addedAt.set(id, performance.now());
    void queue.add('noop', {}, { jobId: id, removeOnComplete: true });
  });
  await waitUntil(() => latencies.length >= RUNS, 'bare jobs');
  await worker.close();
  await queue.close();
  await deleteKeys(connection, prefix);
  connection.disconnect();
  workerConnection.disconnect();
  return { latenciesMs: latencies, runsPerSecond: (RUNS * 1_000) / (lastStart - start) };
}

// ---- the agent ----

function startedAt(cp: FakeControlPlane): Map<string, number> {
  const times = new Map<string, number>();
  for (const request of cp.records.requests) {
    const match = /^\/v1\/runs\/([^/]+)\/events/.exec(request.path);
    if (request.method !== 'POST' || match === null || request.status >= 300) {
      continue;
    }
    const body = JSON.parse(request.body.toString('utf8')) as { events: { type: string }[] };
    const runId = decodeURIComponent(match[1] ?? '');
    if (body.events.some((event) => event.type === 'started') && !times.has(runId)) {
      times.set(runId, request.atMs);
    }
  }
  return times;
}

async function agentPhase(
  cp: FakeControlPlane,
  label: string,
  rate: number,
  runs = RUNS,
): Promise<Phase> {
  const issuedAt = new Map<string, number>();
  const start = Date.now();
  await issuePaced(runs, rate, (index) => {
    const runId = `${label}-${String(index).padStart(5, '0')}`;
    issuedAt.set(runId, Date.now());
    cp.issue([cp.signer.sign(runDraft({ runId, connectionId: 'fx' }))], AGENT_ID);
  });
  const ids = [...issuedAt.keys()];
  await waitUntil(
    () => ids.every((id) => cp.records.runEvents(id).some((e) => e.type === 'succeeded')),
    `${label} runs to succeed`,
  );
  const started = startedAt(cp);
  const latencies = ids.map((id) => (started.get(id) ?? NaN) - (issuedAt.get(id) ?? NaN));
  const lastStarted = Math.max(...ids.map((id) => started.get(id) ?? 0));
  const timesFile = process.env['DISPATCH_TIMES'];
  if (timesFile !== undefined) {
    const rows = ids.map((id) => ({ id, issued: issuedAt.get(id), started: started.get(id) }));
    writeFileSync(`${timesFile}.${label}.json`, JSON.stringify(rows));
  }
  return { latenciesMs: latencies, runsPerSecond: (runs * 1_000) / (lastStarted - start) };
}

function summary(phaseLatency: Phase, phaseRate: Phase): Record<string, number> {
  return {
    p50Ms: Number(percentile(phaseLatency.latenciesMs, 50).toFixed(1)),
    p99Ms: Number(percentile(phaseLatency.latenciesMs, 99).toFixed(1)),
    runsPerSecond: Number(phaseRate.runsPerSecond.toFixed(1)),
  };
}

const source = await startFixtureSource({ items: 1, secret: 'bench-dispatch-secret' });
const catalog = await startCatalogReceiver();
const cp = await startFakeControlPlane({ leaseMs: 600_000 });
const redis = new Redis(REDIS_URL);
const prefix = uniquePrefix('bench-dispatch');
let agent: AgentProcess | undefined;
try {
  const bare = summary(await barePhase(RATE), await barePhase(0));
  const configPath = writeConfig(
    e2eConfig({
      redisUrl: REDIS_URL,
      prefix,
      catalogUrl: catalog.url,
      sourceUrl: source.url,
      agentId: AGENT_ID,
      runsPerConnection: CONCURRENCY,
      queue: {
        concurrency: CONCURRENCY,
        ...(ISOLATION === undefined ? {} : { isolation: ISOLATION }),
      },
      controlPlane: {
        url: cp.url,
        agentToken: 'env://CP_TOKEN',
        publicKey: cp.signer.publicKeyPem,
        pollWaitSeconds: 20,
        heartbeatIntervalSeconds: 30,
      },
    }),
  );
  const nodeOptions = process.env['DISPATCH_AGENT_NODE_OPTIONS'];
  agent = await spawnAgent({
    name: 'agent',
    configPath,
    env: {
      FIXTURE_SECRET: 'bench-dispatch-secret',
      CP_TOKEN: cp.token,
    },
    ...(nodeOptions === undefined ? {} : { nodeArgs: nodeOptions.split(/\s+/).filter(Boolean) }),
  });
  const pid = agent.child.pid ?? 0;
  // Not measured: the first runs start the run threads (a fresh isolate loading the connectors
  // each), which is start-up, not dispatch.
  await agentPhase(cp, 'warmup', 0, WARMUP_RUNS);
  const cpuBefore = cpuSeconds(pid);
  const harnessBefore = process.cpuUsage();
  const paced = await agentPhase(cp, 'paced', RATE);
  const burst = await agentPhase(cp, 'burst', 0);
  const cpu = cpuSeconds(pid) - cpuBefore;
  const harness = process.cpuUsage(harnessBefore);
  const agentFigures = summary(paced, burst);
  const result = {
    runs: RUNS,
    pacedRatePerSecond: RATE,
    concurrency: CONCURRENCY,
    bare,
    agent: { ...agentFigures, cpuMsPerRun: Number(((cpu * 1_000) / (2 * RUNS)).toFixed(1)) },
    // This process: the fake control plane, the fixture source and the catalog receiver.
    harnessCpuMsPerRun: Number(((harness.user + harness.system) / 1_000 / (2 * RUNS)).toFixed(1)),
    rateRatio: Number((agentFigures['runsPerSecond']! / bare['runsPerSecond']!).toFixed(3)),
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
} finally {
  const logFile = process.env['DISPATCH_AGENT_LOG'];
  if (logFile !== undefined && agent !== undefined) {
    writeFileSync(logFile, agent.output());
  }
  await stopAgent(agent);
  await deleteKeys(redis, prefix);
  redis.disconnect();
  await Promise.all([source.close(), catalog.close(), cp.close()]);
  removeFileTempDirs();
}

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
import { once } from 'node:events';
import { spawn } from 'node:child_process';
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { Agent, request } from 'undici';
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
/**
 * The fewest HTTP requests one dispatched run makes under docs/protocol (the instruction's
 * poll is shared by up to 100 and not counted): its ack, one post of its events (all of them in
 * one, fewer than the agent makes: it posts `started` as soon as the run starts), one source
 * read (no login) and the catalog's batch and `complete`.
 */
const FLOOR_REQUESTS_PER_RUN = 5;
/** The issue's targets, printed beside the figures. */
const TARGET_P50_MS = 25;
const TARGET_RATE_RATIO = 0.5;
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

// ---- bare BullMQ, and the protocol's floor ----

/** Before each job's processor returns: nothing (bare BullMQ) or the floor's HTTP requests. */
type JobWork = () => Promise<void>;

async function noWork(): Promise<void> {
  await Promise.resolve();
}

/**
 * The floor's server, in a process of its own (as the fakes are for the agent, so client and
 * server do not share an event loop): answers every request with an empty 200, prints its port.
 */
const FLOOR_SERVER = `
const server = require('node:http').createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': '2' });
    res.end('{}');
  });
});
server.listen(0, '127.0.0.1', () => process.stdout.write(server.address().port + '\\n'));
`;

/** Starts the floor's server and gives `work`, the floor's requests of one job, made to it. */
async function startFloorServer(): Promise<{ work: JobWork; close: () => Promise<void> }> {
  const child = spawn(process.execPath, ['-e', FLOOR_SERVER], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const [line] = (await once(child.stdout, 'data')) as [Buffer];
  const origin = `http://127.0.0.1:${line.toString('utf8').trim()}`;
  const dispatcher = new Agent({ connections: CONCURRENCY * 2 });
  const body = JSON.stringify({ events: [{ type: 'started', at: new Date().toISOString() }] });
  return {
    async work() {
      for (let call = 0; call < FLOOR_REQUESTS_PER_RUN; call += 1) {
        const answer = await request(`${origin}/v1/call`, {
          method: 'POST',
          body,
          headers: { 'content-type': 'application/json' },
          dispatcher,
        });
        await answer.body.text();
      }
    },
    async close() {
      await dispatcher.close();
      child.kill();
      await once(child, 'exit');
    },
  };
}

async function barePhase(rate: number, work: JobWork = noWork): Promise<Phase> {
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
      await work();
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

function printTable(result: {
  bare: Record<string, number>;
  agent: Record<string, number>;
  rateRatio: number;
  floor: { runsPerSecond: number; rateRatio: number; clientCpuMsPerRun: number };
}): void {
  const { agent, bare, floor } = result;
  const verdict = (met: boolean): string => (met ? 'met' : 'not met');
  const rows = [
    ['', 'agent', 'limit', '', 'bare BullMQ', 'protocol floor'],
    [
      'p50 issue → started (ms)',
      agent['p50Ms'],
      `≤ ${String(TARGET_P50_MS)}`,
      verdict(agent['p50Ms']! <= TARGET_P50_MS),
      bare['p50Ms'],
      '',
    ],
    ['p99 (ms)', agent['p99Ms'], '', '', bare['p99Ms'], ''],
    ['runs/s (burst)', agent['runsPerSecond'], '', '', bare['runsPerSecond'], floor.runsPerSecond],
    [
      'rate ÷ bare',
      result.rateRatio,
      `≥ ${String(TARGET_RATE_RATIO)}`,
      verdict(result.rateRatio >= TARGET_RATE_RATIO),
      1,
      floor.rateRatio,
    ],
    ['CPU per run (ms)', agent['cpuMsPerRun'], '', '', '', floor.clientCpuMsPerRun],
  ];
  for (const row of rows) {
    process.stdout.write(
      `${row.map((cell, i) => String(cell).padEnd(i === 0 ? 26 : 14)).join('')}\n`,
    );
  }
}

const source = await startFixtureSource({ items: 1, secret: 'bench-dispatch-secret' });
const catalog = await startCatalogReceiver();
const cp = await startFakeControlPlane({ leaseMs: 600_000 });
const redis = new Redis(REDIS_URL);
const prefix = uniquePrefix('bench-dispatch');
let agent: AgentProcess | undefined;
try {
  const bare = summary(await barePhase(RATE), await barePhase(0));
  const floorServer = await startFloorServer();
  const floorCpuBefore = process.cpuUsage();
  const floorBurst = await barePhase(0, floorServer.work).finally(floorServer.close);
  const floorCpu = process.cpuUsage(floorCpuBefore);
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
    floor: {
      requestsPerRun: FLOOR_REQUESTS_PER_RUN,
      runsPerSecond: Number(floorBurst.runsPerSecond.toFixed(1)),
      rateRatio: Number((floorBurst.runsPerSecond / bare['runsPerSecond']!).toFixed(3)),
      // BullMQ and the HTTP client of the floor's side (its server's CPU is not counted).
      clientCpuMsPerRun: Number(((floorCpu.user + floorCpu.system) / 1_000 / RUNS).toFixed(2)),
    },
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
  printTable(result);
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

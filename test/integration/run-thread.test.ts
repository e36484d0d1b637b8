import { setFlagsFromString } from 'node:v8';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { createLocalBudgetStore } from '../../agent/http/budget.ts';
import { HttpSettingsSchema } from '../../agent/http/settings.ts';
import { PerimeterError } from '../../agent/plugin-api/index.ts';
import { RunThreadPool } from '../../agent/daemon/run-thread/pool.ts';
import type { SessionHandlers, ThreadSession } from '../../agent/daemon/run-thread/pool.ts';
import type { FromThread, StartRun, ToThread } from '../../agent/daemon/run-thread/protocol.ts';
import { EncodedAssets } from '../../agent/sink/ndjson.ts';
import { startFixtureSource } from '../fakes/fixture/source.ts';
import type { FixtureSource } from '../fakes/fixture/source.ts';
import { makeCanary } from '../helpers/canary.ts';
import { deferredCleanup } from '../helpers/cleanup.ts';
import { waitFor } from '../helpers/wait-for.ts';

const defer = deferredCleanup();
const CONNECTORS = new URL('../helpers/fixture-connectors.ts', import.meta.url).href;
let pool: RunThreadPool | undefined;

afterEach(async () => {
  await pool?.close();
  pool = undefined;
});

function openPool(): RunThreadPool {
  pool = new RunThreadPool({
    data: {
      connectorsModule: CONNECTORS,
      http: HttpSettingsSchema.parse({}),
      extraCaPem: undefined,
      nodeExtraCaCerts: undefined,
      userAgent: 'perimeter-test',
    },
    maxIdle: 2,
    logger: pino({ level: 'silent' }, { write: () => undefined }),
  });
  return pool;
}

/** What the core does for a thread here: keeps its lines and serves its budget calls. */
function serving(lines: string[]): SessionHandlers {
  const store = createLocalBudgetStore();
  return {
    onService: (message: FromThread, reply: (message: ToThread) => void) => {
      if (message.type === 'log') {
        lines.push(message.line);
      } else if (message.type === 'budget' && message.op !== 'shrink') {
        void store.reserve(message.source, message.limit, message.op === 'rereserve').then((r) => {
          reply({ type: 'budgetReply', id: message.id, ...r });
        });
      }
    },
  };
}

function fixtureRun(source: FixtureSource, secret: string, params: object = {}): StartRun {
  return {
    runId: 'run-thread-test',
    connector: 'fixture',
    operation: 'extract',
    settings: { baseUrl: source.url, pageSize: 50, credentials: { secret: 'env://FIXTURE' } },
    credentials: { secret: Buffer.from(secret) },
    params,
    cursor: undefined,
    policy: {
      allowedHosts: [new URL(source.url).host],
      allowedCalls: [{ method: 'POST', path: '/v1/token' }],
    },
    rateLimit: { requestsPerSecond: 1_000, burst: 100 },
    logLevel: 'debug',
    logBindings: { component: 'connector', connector: 'fixture', runId: 'run-thread-test' },
  };
}

/**
 * Consumes a session to its end: every item, each asset of an encoded block as the asset event
 * its line stands for, and what the operation returned.
 */
async function drain(session: ThreadSession): Promise<{ items: unknown[]; value: unknown }> {
  const items: unknown[] = [];
  for (;;) {
    const next = await session.next();
    if (!Array.isArray(next)) {
      session.end();
      return { items, value: (next as { value: unknown }).value };
    }
    for (const item of next as readonly unknown[]) {
      items.push(...(item instanceof EncodedAssets ? assetEvents(item) : [item]));
    }
    session.pull();
  }
}

function assetEvents(block: EncodedAssets): unknown[] {
  const lines = Buffer.from(block.lines).toString('utf8').split('\n').slice(0, -1);
  return lines.map((line) => ({ type: 'asset', asset: JSON.parse(line) as unknown }));
}

async function source(items: number, secret: string): Promise<FixtureSource> {
  const started = await startFixtureSource({ items, secret });
  defer(() => started.close());
  return started;
}

describe('the run thread pool', () => {
  it('streams an extract from a thread in order, keeps its secret out of every line, and reuses the thread', async () => {
    const secret = makeCanary('thread-secret');
    const fixture = await source(600, secret);
    const threads = openPool();
    const lines: string[] = [];
    const first = await drain(threads.start(fixtureRun(fixture, secret), 64, serving(lines)));
    const assets = first.items.filter((item) => (item as { type: string }).type === 'asset');
    expect(assets).toHaveLength(600);
    expect((assets[599] as { asset: { qualifiedName: string } }).asset.qualifiedName).toBe(
      'fixture/item-0000599',
    );
    expect(first.items.at(-1)).toEqual({ type: 'checkpoint', cursor: { offset: 600 } });
    expect(threads.size).toEqual({ idle: 1, busy: 0 });

    const second = threads.start(fixtureRun(fixture, secret), 64, serving(lines));
    // The idle thread serves it: no second one was made.
    expect(threads.size).toEqual({ idle: 0, busy: 1 });
    expect((await drain(second)).items).toHaveLength(612);
    expect(lines.some((line) => line.includes('"msg":"HTTP request"'))).toBe(true);
    expect(lines.filter((line) => line.includes(secret))).toEqual([]);
  });

  it('fails a run over its heap cap with RUN_RESOURCE_EXHAUSTED and replaces the thread for the next run', async () => {
    const secret = makeCanary('thread-secret');
    const fixture = await source(10, secret);
    const threads = openPool();
    const hog: StartRun = {
      ...fixtureRun(fixture, secret),
      connector: 'hog',
      settings: {},
      credentials: {},
      policy: { allowedHosts: [], allowedCalls: [] },
    };
    const session = threads.start(hog, 48, serving([]));
    const failure = await drain(session).catch((error: unknown) => error);
    session.end();
    expect(failure).toBeInstanceOf(PerimeterError);
    expect(failure).toMatchObject({ code: 'RUN_RESOURCE_EXHAUSTED', retryable: true });
    expect(threads.size).toEqual({ idle: 0, busy: 0 });
    const after = await drain(threads.start(fixtureRun(fixture, secret), 48, serving([])));
    expect(after.items).toHaveLength(11);
  });

  it('caps a thread at its own heap limits, not at the heap flags the agent was started with', async () => {
    // What bin/perimeter.js gives the agent's own heap, here set late: V8 reads these flags
    // when it creates an isolate, as it will for the thread.
    setFlagsFromString('--max-old-space-size=300');
    setFlagsFromString('--max-semi-space-size=1');
    const secret = makeCanary('thread-secret');
    const fixture = await source(1, secret);
    const check: StartRun = {
      ...fixtureRun(fixture, secret),
      connector: 'hog',
      operation: 'check',
      settings: {},
      credentials: {},
      policy: { allowedHosts: [], allowedCalls: [] },
    };
    const { value } = await drain(openPool().start(check, 64, serving([])));
    // 64 MiB of old generation and the young generation of three 8 MiB semi-spaces.
    expect(value).toEqual({ summary: 'heap limit 88 MiB' });
  });

  it('ends a run within a second of an abort, with the abort as its error', async () => {
    const secret = makeCanary('thread-secret');
    const fixture = await source(100, secret);
    fixture.always({ status: 200, delayMs: 30_000 });
    const threads = openPool();
    const session = threads.start(fixtureRun(fixture, secret), 64, serving([]));
    const outcome = drain(session).catch((error: unknown) => error);
    await waitFor(() => fixture.requests().some((request) => request.startsWith('GET')), {
      what: 'the first page request',
    });
    const abortedAt = performance.now();
    session.abort(new PerimeterError('RUN_CANCELLED', 'A cancel instruction stopped the run'));
    expect(await outcome).toMatchObject({ code: 'RUN_CANCELLED' });
    expect(performance.now() - abortedAt).toBeLessThan(1_000);
    session.end();
    // It stopped by itself, so its thread serves the next run.
    expect(threads.size).toEqual({ idle: 1, busy: 0 });
  });

  it('terminates a thread whose run does not stop when the core gives it up', async () => {
    const secret = makeCanary('thread-secret');
    const fixture = await source(100, secret);
    const threads = openPool();
    const session = threads.start(
      fixtureRun(fixture, secret, { cpuMsPerPage: 10_000 }),
      64,
      serving([]),
    );
    await waitFor(() => fixture.requests().some((request) => request.startsWith('GET')), {
      what: 'the first page request',
    });
    session.end();
    expect(threads.size).toEqual({ idle: 0, busy: 1 });
    await waitFor(() => threads.size.busy === 0, { timeoutMs: 9_000, what: 'the thread to go' });
    expect(threads.size).toEqual({ idle: 0, busy: 0 });
  });
});

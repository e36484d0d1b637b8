import { createServer } from 'node:net';
import type { AddressInfo, Server } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { isPerimeterError } from '../plugin-api/index.ts';
import { findCanary } from '../../test/helpers/canary.ts';
import { repeatedTopLevelKeys } from '../../test/helpers/log-keys.ts';
import { startRunWorld } from '../../test/helpers/run-world.ts';
import type { RunWorld } from '../../test/helpers/run-world.ts';
import type { RunCheckpoint } from './types.ts';

let world: RunWorld | undefined;
afterEach(async () => {
  await world?.close();
  world = undefined;
});

async function failure(run: Promise<unknown>): Promise<{ code: string; message: string }> {
  const error = await run.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!isPerimeterError(error)) {
    throw new Error('expected a PerimeterError', { cause: error });
  }
  return { code: error.code, message: error.message };
}

/** A TCP listener that counts connections: proof that nothing reached a refused host. */
async function listener(): Promise<{ server: Server; port: number; connections: () => number }> {
  let connections = 0;
  const server = createServer((socket) => {
    connections += 1;
    socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as AddressInfo).port, connections: () => connections };
}

describe('the run executor', () => {
  it('pushes every asset once, commits checkpoints and completes the run', async () => {
    world = await startRunWorld({ items: 1_234 });
    const checkpoints: RunCheckpoint[] = [];
    const result = await world.runtime.executor.execute(world.spec({ runId: 'run-a' }), {
      signal: AbortSignal.timeout(30_000),
      hooks: {
        onCheckpoint: (c) => {
          checkpoints.push(c);
          return Promise.resolve();
        },
      },
    });
    expect(result).toMatchObject({ runId: 'run-a', connector: 'fixture', assets: 1_234 });
    expect(world.receiver.assetCounts().size).toBe(1_234);
    expect([...world.receiver.assetCounts().values()].every((n) => n === 1)).toBe(true);
    expect(world.receiver.completes).toMatchObject([
      {
        runId: 'run-a',
        assets: 1_234,
        batches: result.batches,
        counts: {
          kinds: { FixtureItem: { extracted: 1_234, skipped: 0 } },
          partial: false,
          skipped: { total: 0, truncated: false, items: [] },
          reconciled: true,
        },
      },
    ]);
    expect(result).toMatchObject({ partial: false, reconciled: true });
    // Each committed checkpoint carries the counts up to it.
    expect(checkpoints.at(-1)?.tally?.kinds['FixtureItem']?.extracted).toBe(
      checkpoints.at(-1)?.assets,
    );
    // Checkpoints commit at batch boundaries as acks arrive; the tail is covered by `complete`.
    expect(checkpoints.length).toBeGreaterThan(0);
    expect(checkpoints.map((c) => c.nextSeq)).toEqual(
      [...checkpoints.map((c) => c.nextSeq)].sort((a, b) => a - b),
    );
  });

  it('writes log lines that bind each key once: the runtime and sink lines carry one component each', async () => {
    world = await startRunWorld({ items: 50 });
    await world.runtime.executor.execute(world.spec({ runId: 'run-keys' }), {
      signal: AbortSignal.timeout(30_000),
    });
    const lines = world.logs.lines.filter((line) => line.includes('"run-keys"'));
    expect(lines.map(repeatedTopLevelKeys).flat()).toEqual([]);
    const components = new Set(world.logs.records().map((record) => record['component']));
    expect(components).toContain('runtime');
    expect(components).toContain('sink');
    expect(
      repeatedTopLevelKeys('{"component":"runtime","a":{"component":1},"component":"x"}'),
    ).toEqual(['component']);
  });

  it('resumes from a committed checkpoint without sending an asset twice', async () => {
    world = await startRunWorld({ items: 900 });
    const first: RunCheckpoint[] = [];
    world.source.script(
      { status: 200 },
      { status: 200 },
      { status: 200 },
      { status: 200 },
      { status: 400 },
    );
    await failure(
      world.runtime.executor.execute(world.spec({ runId: 'run-r' }), {
        signal: AbortSignal.timeout(30_000),
        hooks: {
          onCheckpoint: (c) => {
            first.push(c);
            return Promise.resolve();
          },
        },
      }),
    );
    const resumeFrom = first.at(-1);
    expect(resumeFrom?.assets).toBeGreaterThan(0);
    const result = await world.runtime.executor.execute(world.spec({ runId: 'run-r' }), {
      signal: AbortSignal.timeout(30_000),
      ...(resumeFrom ? { checkpoint: resumeFrom } : {}),
    });
    expect(result.assets).toBe(900);
    expect(world.receiver.assetCounts().size).toBe(900);
    expect([...world.receiver.assetCounts().values()].every((n) => n === 1)).toBe(true);
    expect(world.receiver.conflicts).toEqual([]);
  });

  it('refreshes a rotated secret once after the source rejects the cached one', async () => {
    world = await startRunWorld({ items: 50 });
    await world.runtime.executor.execute(world.spec(), { signal: AbortSignal.timeout(30_000) });
    const rotated = `${world.canary}-v2`;
    world.source.setSecret(rotated);
    world.env['FIXTURE_SECRET'] = rotated;
    world.logs.redactor.add(rotated);
    const tokenCallsBefore = world.source.requests().filter((r) => r === 'POST /v1/token').length;
    const result = await world.runtime.executor.execute(world.spec(), {
      signal: AbortSignal.timeout(30_000),
    });
    expect(result.assets).toBe(50);
    expect(
      world.source.requests().filter((r) => r === 'POST /v1/token').length - tokenCallsBefore,
    ).toBe(2);
  });

  it('fails with SOURCE_AUTH_FAILED when even the refreshed secret is rejected', async () => {
    world = await startRunWorld({ items: 10 });
    world.source.setSecret('a-secret-nobody-has');
    const { code } = await failure(
      world.runtime.executor.execute(world.spec(), { signal: AbortSignal.timeout(30_000) }),
    );
    expect(code).toBe('SOURCE_AUTH_FAILED');
  });

  it('refuses a connection outside the allowed hosts before any connection opens', async () => {
    world = await startRunWorld({ items: 10 });
    const outside = await listener();
    try {
      const spec = world.spec({ settings: { baseUrl: `http://127.0.0.2:${outside.port}` } });
      const { code } = await failure(
        world.runtime.executor.execute(spec, { signal: AbortSignal.timeout(30_000) }),
      );
      expect(code).toBe('POLICY_DENIED');
      expect(outside.connections()).toBe(0);
    } finally {
      outside.server.close();
    }
  });

  it('refuses a request to another host and an undeclared write, reaching neither', async () => {
    world = await startRunWorld({ items: 10 });
    const outside = await listener();
    try {
      const fetchElsewhere = world.spec({
        params: { alsoFetch: `http://127.0.0.2:${outside.port}/exfiltrate` },
      });
      expect(
        (
          await failure(
            world.runtime.executor.execute(fetchElsewhere, { signal: AbortSignal.timeout(30_000) }),
          )
        ).code,
      ).toBe('POLICY_DENIED');
      const write = world.spec({ params: { attemptWrite: true } });
      expect(
        (
          await failure(
            world.runtime.executor.execute(write, { signal: AbortSignal.timeout(30_000) }),
          )
        ).code,
      ).toBe('POLICY_DENIED');
      expect(outside.connections()).toBe(0);
      expect(world.source.requests().filter((r) => r.startsWith('POST /v1/items'))).toEqual([]);
    } finally {
      outside.server.close();
    }
  });

  it('never claims completeness for an aborted run', async () => {
    world = await startRunWorld({ items: 5_000 });
    world.source.always({ status: 200, delayMs: 20 });
    const controller = new AbortController();
    const running = world.runtime.executor.execute(world.spec({ runId: 'run-x' }), {
      signal: controller.signal,
    });
    setTimeout(() => {
      controller.abort();
    }, 150);
    expect((await failure(running)).code).toBe('RUN_ABORTED');
    expect(world.receiver.completes).toEqual([]);
  });

  it('fails with SINK_REJECTED when the catalog refuses a batch, and keeps the secret out of everything', async () => {
    world = await startRunWorld({ items: 300 });
    world.receiver.script({ kind: 'status', status: 400 });
    const { code, message } = await failure(
      world.runtime.executor.execute(world.spec(), { signal: AbortSignal.timeout(30_000) }),
    );
    expect(code).toBe('SINK_REJECTED');
    const payloads = world.receiver.requests.map((r) =>
      r.headers['content-encoding'] === 'gzip' && r.outcome !== 'dropped'
        ? gunzipSync(r.body)
        : r.body,
    );
    expect(
      findCanary(world.canary, {
        logs: world.logs.text(),
        message,
        payloads: Buffer.concat(payloads),
        headers: JSON.stringify(world.receiver.requests.map((r) => r.headers)),
      }),
    ).toEqual([]);
  });

  it('refuses an extract under review when no review area is configured, pushing nothing', async () => {
    world = await startRunWorld({ items: 10 });
    const refused = await failure(
      world.runtime.executor.execute(world.spec({ runId: 'run-held' }), {
        signal: AbortSignal.timeout(30_000),
        review: true,
      }),
    );
    expect(refused).toMatchObject({
      code: 'CONFIG_INVALID',
      message: expect.stringContaining('review.dir') as unknown,
    });
    expect(world.receiver.requests).toHaveLength(0);
  });

  it('reports check and discover results without touching the sink', async () => {
    world = await startRunWorld({ items: 7 });
    const check = await world.runtime.executor.execute(
      { ...world.spec(), operation: 'check' },
      { signal: AbortSignal.timeout(30_000) },
    );
    expect(check.check?.summary).toContain('7 items');
    const discover = await world.runtime.executor.execute(
      { ...world.spec(), operation: 'discover' },
      { signal: AbortSignal.timeout(30_000) },
    );
    expect(discover.resources?.map((r) => r.id)).toEqual(['col-a', 'col-b']);
    expect(world.receiver.requests).toEqual([]);
  });
});

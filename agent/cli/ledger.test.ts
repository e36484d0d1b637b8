import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCatalogReceiver } from '../../test/fakes/catalog-receiver.ts';
import type { CatalogReceiver } from '../../test/fakes/catalog-receiver.ts';
import { startFixtureSource } from '../../test/fakes/fixture/source.ts';
import type { FixtureSource } from '../../test/fakes/fixture/source.ts';
import { findCanary, makeCanary } from '../../test/helpers/canary.ts';
import { captureIo } from '../../test/helpers/cli-io.ts';
import { fixtureRegistry } from '../../test/helpers/run-world.ts';
import { tempDir } from '../../test/helpers/temp-dir.ts';
import { REDIS_URL, deleteKeys, uniquePrefix } from '../../test/integration/support/redis.ts';
import type { LedgerEntry } from '../ledger/entry.ts';
import { createOutboundLedger } from '../ledger/ledger.ts';
import { createRedisLedgerStore } from '../queue/outbound-ledger.ts';
import { runCli } from './cli.ts';

const canary = makeCanary('ledger-secret');
const catalogToken = makeCanary('catalog-token');
const redisPrefix = uniquePrefix('cli-ledger');
let dir: string;
let source: FixtureSource;
let receiver: CatalogReceiver;
let redis: Redis;

beforeAll(async () => {
  dir = tempDir('cli-ledger', { lifetime: 'file' });
  source = await startFixtureSource({ items: 250, secret: canary });
  receiver = await startCatalogReceiver({ token: catalogToken });
  redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
  writeFileSync(
    join(dir, 'config.yaml'),
    [
      'catalog:',
      `  url: ${receiver.url}`,
      '  token: env://CATALOG_TOKEN',
      '  batchMaxAssets: 100',
      'policy:',
      '  connectors:',
      '    fixture:',
      '      allowHosts: ["127.0.0.1:*"]',
      'ledger:',
      `  file: ${join(dir, 'ledger.ndjson')}`,
      'redis:',
      `  prefix: ${redisPrefix}`,
      '',
    ].join('\n'),
  );
  writeFileSync(
    join(dir, 'job.yaml'),
    `connector: fixture\nrunId: ledger-run\nconnection:\n  baseUrl: ${source.url}\n  credentials:\n    secret: env://FIXTURE_SECRET\n`,
  );
});

afterAll(async () => {
  await deleteKeys(redis, redisPrefix);
  await Promise.all([source.close(), receiver.close(), redis.quit()]);
});

async function cli(...argv: string[]): Promise<{ code: number; stdout: string; all: string }> {
  const io = captureIo(
    { FIXTURE_SECRET: canary, CATALOG_TOKEN: catalogToken, PERIMETER_CONFIG: 'config.yaml' },
    dir,
  );
  const code = await runCli(argv, io, fixtureRegistry);
  return { code, stdout: io.out.join(''), all: io.text() };
}

const sha256 = (body: Buffer): string => createHash('sha256').update(body).digest('hex');
const ledgerFile = (): string => join(dir, 'ledger.ndjson');
const lines = (): string[] => readFileSync(ledgerFile(), 'utf8').trim().split('\n');

describe('perimeter ledger', () => {
  it('records a run whose entries match, body for body, what the catalog stored', async () => {
    expect((await cli('run', 'job.yaml')).code).toBe(0);
    const entries = lines().map((line) => JSON.parse(line) as LedgerEntry);
    const received = receiver.requests.map((r) => `${r.path} ${sha256(r.body)} ${r.body.length}`);
    expect(entries.map((e) => `${e.path} ${e.sha256} ${e.bytes}`)).toEqual(received);
    expect(entries.map((e) => e.kind)).toEqual([
      'catalog.batch',
      'catalog.batch',
      'catalog.batch',
      'catalog.complete',
    ]);
    expect(entries.every((e) => e.secretRefs?.join() === 'env://FIXTURE_SECRET')).toBe(true);
    expect(findCanary(canary, { ledger: readFileSync(ledgerFile()) })).toEqual([]);
    expect(findCanary(catalogToken, { ledger: readFileSync(ledgerFile()) })).toEqual([]);

    const verified = await cli('ledger', 'verify', '--file', 'ledger.ndjson');
    expect(verified.code).toBe(0);
    expect(verified.stdout).toBe(
      `ledger ok: 4 entries after anchor 0; head 4:${entries[3]?.hash ?? ''}\n`,
    );
    const shown = await cli('ledger', 'show', '--file', 'ledger.ndjson', '--run', 'ledger-run');
    expect(shown.stdout.trim().split('\n')).toHaveLength(4);
    expect(shown.stdout).toContain(`sha256=${entries[0]?.sha256 ?? ''}`);
  });

  it.each([
    [
      'edited',
      (l: string[]) => l.with(1, l[1]?.replace('"bytes":', '"bytes":1') ?? ''),
      /entry 2 was altered/,
    ],
    ['deleted', (l: string[]) => l.toSpliced(1, 1), /entry 3 follows entry 1/],
    ['moved', (l: string[]) => [l[0], l[2], l[1], l[3]], /entry 3 follows entry 1/],
  ] as const)('fails verify naming an entry that was %s', async (_what, tamper, named) => {
    const original = lines();
    const file = join(dir, `tampered-${_what}.ndjson`);
    writeFileSync(file, `${tamper(original).join('\n')}\n`);
    const result = await cli('ledger', 'verify', '--file', file);
    expect(result.code).toBe(1);
    expect(result.all).toMatch(/error LEDGER_BROKEN/);
    expect(result.all).toMatch(named);
  });

  it('verifies and lists the Redis chain, filtered by run and time', async () => {
    const store = createRedisLedgerStore({ client: redis, prefix: redisPrefix, retentionDays: 30 });
    const startMs = Date.now() - 3_600_000;
    let nowMs = startMs;
    const ledger = createOutboundLedger({
      store,
      logger: { error: () => undefined } as never,
      now: () => nowMs,
    });
    for (const runId of ['a', 'b', 'a']) {
      await ledger.record({
        kind: 'controlPlane.events',
        runId,
        method: 'POST',
        url: `https://cp.example/v1/runs/${runId}/events`,
        body: `{"run":"${runId}"}`,
        status: 202,
      });
      nowMs += 60_000;
    }
    const verified = await cli('ledger', 'verify');
    expect(verified.code).toBe(0);
    expect(verified.stdout).toMatch(/^ledger ok: 3 entries after anchor 0; head 3:[0-9a-f]{64}\n$/);
    const shown = await cli(
      'ledger',
      'show',
      '--run',
      'a',
      '--since',
      new Date(startMs + 30_000).toISOString(),
      '--json',
    );
    expect(
      shown.stdout
        .trim()
        .split('\n')
        .map((l) => (JSON.parse(l) as LedgerEntry).seq),
    ).toEqual([3]);
    const key = `${redisPrefix}:ledger:entries`;
    const first = JSON.parse((await redis.lindex(key, 0)) ?? '') as LedgerEntry;
    await redis.lset(key, 0, JSON.stringify({ ...first, status: 500 }));
    const broken = await cli('ledger', 'verify');
    expect(broken.code).toBe(1);
    expect(broken.all).toMatch(/LEDGER_BROKEN.*entry 1 was altered/);
  });

  it('refuses start --output with a code instead of pushing anyway', async () => {
    const result = await cli('start', '--output', 'out');
    expect(result.code).toBe(2);
    expect(result.all).toMatch(
      /error OUTPUT_NOT_SUPPORTED: perimeter start does not take --output; .* set review\.mode/,
    );
  });
});

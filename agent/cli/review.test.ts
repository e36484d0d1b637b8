import { appendFileSync, existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCatalogReceiver } from '../../test/fakes/catalog-receiver.ts';
import type { CatalogReceiver } from '../../test/fakes/catalog-receiver.ts';
import { startFixtureSource } from '../../test/fakes/fixture/source.ts';
import type { FixtureSource } from '../../test/fakes/fixture/source.ts';
import { captureIo } from '../../test/helpers/cli-io.ts';
import { fixtureRegistry } from '../../test/helpers/run-world.ts';
import { tempDir } from '../../test/helpers/temp-dir.ts';
import { REDIS_URL, deleteKeys, uniquePrefix } from '../../test/integration/support/redis.ts';
import type { LedgerEntry } from '../ledger/entry.ts';
import { verifyChain } from '../ledger/verify.ts';
import { createRedisLedgerStore } from '../queue/outbound-ledger.ts';
import { runCli } from './cli.ts';

const redisPrefix = uniquePrefix('cli-review');
let dir: string;
let source: FixtureSource;
let receiver: CatalogReceiver;
let redis: Redis;

beforeAll(async () => {
  dir = tempDir('cli-review', { lifetime: 'file' });
  source = await startFixtureSource({ items: 230, secret: 'fixture-secret-value' });
  receiver = await startCatalogReceiver({});
  redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
  writeFileSync(
    join(dir, 'config.yaml'),
    `catalog:\n  url: ${receiver.url}\n  batchMaxAssets: 100\npolicy:\n  connectors:\n    fixture:\n      allowHosts: ["127.0.0.1:*"]\nredis:\n  prefix: ${redisPrefix}\n`,
  );
});

afterAll(async () => {
  await deleteKeys(redis, redisPrefix);
  await Promise.all([source.close(), receiver.close(), redis.quit()]);
});

async function cli(...argv: string[]): Promise<{ code: number; stdout: string; all: string }> {
  const io = captureIo(
    { FIXTURE_SECRET: 'fixture-secret-value', PERIMETER_CONFIG: 'config.yaml' },
    dir,
  );
  const code = await runCli(argv, io, fixtureRegistry);
  return { code, stdout: io.out.join(''), all: io.text() };
}

async function extractForReview(runId: string): Promise<void> {
  writeFileSync(
    join(dir, `${runId}.yaml`),
    `connector: fixture\nrunId: ${runId}\nconnection:\n  baseUrl: ${source.url}\n  credentials:\n    secret: env://FIXTURE_SECRET\n`,
  );
  expect((await cli('run', `${runId}.yaml`, '--output', 'review')).code).toBe(0);
}

const requestsOf = (runId: string): number =>
  receiver.requests.filter((r) => r.path.startsWith(`/v1/runs/${runId}/`)).length;

describe('perimeter review', () => {
  it('pushes nothing until approved, then exactly the bytes whose digests were shown', async () => {
    await extractForReview('rv-approve');
    expect(requestsOf('rv-approve')).toBe(0);
    expect((await cli('review', 'list', '--dir', 'review')).stdout).toMatch(
      /^rv-approve {2}fixture {2}230 assets in 3 batches {2}awaiting_review$/m,
    );
    const shown = (await cli('review', 'show', 'rv-approve', '--dir', 'review')).stdout;
    const digests = [...shown.matchAll(/seq=(\d+) .* sha256=([0-9a-f]{64})/g)].map(
      ([, seq, sha]) => `${seq} ${sha}`,
    );
    expect(digests).toHaveLength(3);
    expect(requestsOf('rv-approve')).toBe(0);

    const approved = await cli('review', 'approve', 'rv-approve', '--dir', 'review');
    expect(approved.all).toContain('run rv-approve approved: 3 batches pushed to the catalog');
    expect(receiver.batches('rv-approve').map((b) => `${b.seq} ${b.sha256}`)).toEqual(digests);
    expect(receiver.completes.filter((c) => c.runId === 'rv-approve')).toMatchObject([
      { assets: 230 },
    ]);
    const chain = await createRedisLedgerStore({
      client: redis,
      prefix: redisPrefix,
      retentionDays: 30,
    }).read();
    expect(verifyChain(chain).ok).toBe(true);
    expect(
      chain.entries.map((line) => (JSON.parse(line) as LedgerEntry).runId).filter(Boolean),
    ).toEqual(['rv-approve', 'rv-approve', 'rv-approve', 'rv-approve']);
    expect((await cli('review', 'approve', 'rv-approve', '--dir', 'review')).all).toMatch(
      /error REVIEW_DECIDED/,
    );
  });

  it('pushes nothing for a rejected run and deletes its batches', async () => {
    await extractForReview('rv-reject');
    const rejected = await cli('review', 'reject', 'rv-reject', '--dir', 'review');
    expect(rejected.stdout).toBe('run rv-reject rejected: 3 batches deleted, nothing pushed\n');
    expect(existsSync(join(dir, 'review', 'rv-reject', 'batch-000000.ndjson'))).toBe(false);
    const again = await cli('review', 'approve', 'rv-reject', '--dir', 'review');
    expect(again.code).toBe(2);
    expect(requestsOf('rv-reject')).toBe(0);
  });

  it('refuses to approve a batch file changed after review, pushing nothing', async () => {
    await extractForReview('rv-altered');
    appendFileSync(join(dir, 'review', 'rv-altered', 'batch-000001.ndjson'), '{}\n');
    const result = await cli('review', 'approve', 'rv-altered', '--dir', 'review');
    expect(result.code).toBe(1);
    expect(result.all).toMatch(/error REVIEW_ALTERED: Batch 1 of run rv-altered/);
    expect(requestsOf('rv-altered')).toBe(0);
  });
});

import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../agent/cli/cli.ts';
import type { Registry } from '../../agent/config/load.ts';
import { connector } from '../../connectors/cyral/index.ts';
import { envStore } from '../../secrets/env/index.ts';
import { fileStore } from '../../secrets/file/index.ts';
import { startCatalogReceiver } from '../fakes/catalog-receiver.ts';
import type { CatalogReceiver } from '../fakes/catalog-receiver.ts';
import { expectedCyralAssets, expectedSkips, total } from '../fakes/cyral/expected.ts';
import { startCyralSimulator } from '../fakes/cyral/simulator.ts';
import type { CyralSimulator } from '../fakes/cyral/simulator.ts';
import { findCanary } from '../helpers/canary.ts';
import { captureIo } from '../helpers/cli-io.ts';

// The Cyral connector in the real `perimeter run`: secrets from a file and the environment, the
// destination policy, the catalog sink or the directory sink, and the real log pipeline at
// debug level. Nothing secret the control plane holds or hands out may reach any of them.

const registry: Registry = { connectors: [connector], stores: [envStore, fileStore] };
let dir: string;
let simulator: CyralSimulator;
let receiver: CatalogReceiver;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'perimeter-cyral-'));
  simulator = await startCyralSimulator({
    size: { sidecars: 3, repos: 10 },
    tokens: { issueRefreshTokens: true, expiresInAsString: true },
  });
  receiver = await startCatalogReceiver({});
  writeFileSync(join(dir, 'client-secret'), `${simulator.clientSecret}\n`, { mode: 0o600 });
  writeFileSync(
    join(dir, 'config.yaml'),
    [
      'agent: { logLevel: debug }',
      `catalog: { url: "${receiver.url}" }`,
      'secretStores:',
      `  file: { type: file, allow: ["${dir}/*"] }`,
      '  env: { type: env, allow: ["CYRAL_*"] }',
      `policy: { connectors: { cyral: { allowHosts: ["${simulator.host}"] } } }`,
      '',
    ].join('\n'),
  );
  writeFileSync(
    join(dir, 'job.yaml'),
    [
      'connector: cyral',
      'runId: cyral-run',
      'connection:',
      `  baseUrl: ${simulator.url}`,
      '  tenant: acme',
      '  credentials:',
      '    clientId: env://CYRAL_CLIENT_ID',
      `    clientSecret: file://${dir}/client-secret`,
      '',
    ].join('\n'),
  );
});

afterAll(async () => {
  await Promise.all([simulator.close(), receiver.close()]);
  rmSync(dir, { recursive: true, force: true });
});

async function cli(...argv: string[]): Promise<{ code: number; stdout: string; all: string }> {
  const io = captureIo(
    { CYRAL_CLIENT_ID: simulator.clientId, PERIMETER_CONFIG: 'config.yaml' },
    dir,
  );
  const code = await runCli(argv, io, registry);
  return { code, stdout: io.out.join(''), all: io.text() };
}

/** Every secret the simulator holds or issued, by name. */
function secrets(): Record<string, string> {
  const tokens = simulator.issuedTokens();
  return {
    planted: simulator.tenant.planted,
    clientSecret: simulator.clientSecret,
    ...Object.fromEntries(tokens.map((token, i) => [`token${i}`, token])),
  };
}

function leaks(captured: Record<string, string | Buffer>): string[] {
  return Object.entries(secrets()).flatMap(([name, value]) =>
    findCanary(value, captured).map((where) => `${name} in ${where}`),
  );
}

describe('perimeter run with the cyral connector', () => {
  const expected = (): number => total(expectedCyralAssets(simulator.tenant));

  it('checks the credentials and the reach of the control plane', async () => {
    const result = await cli('check', 'job.yaml');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/source +cyral +token obtained; 10 repositories visible/);
    expect(leaks({ output: result.all })).toEqual([]);
  });

  it('pushes every asset to the catalog, with no secret in what was pushed or logged', async () => {
    // Every log line, to scan them all.
    const result = await cli('run', 'job.yaml', '--log-level', 'debug');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/run cyral-run \(cyral extract\) succeeded/);
    expect(receiver.completes).toContainEqual(
      expect.objectContaining({ runId: 'cyral-run', assets: expected() }),
    );
    // Stale policy ids and unbound gateways: skipped by id, the run partial, the counts reconciled.
    const tenant = simulator.tenant;
    const skips = expectedSkips(tenant);
    const counts = receiver.completes.find((c) => c.runId === 'cyral-run')?.counts;
    expect(counts).toMatchObject({
      partial: true,
      reconciled: true,
      mismatches: [],
      skipped: { total: total(skips), truncated: false },
    });
    const items = (counts?.['skipped'] as { items: Record<string, string>[] }).items;
    expect(items).toContainEqual({
      kind: 'CyralPolicy',
      id: tenant.id('stale-policy', 0),
      reason: 'notFound',
      message: 'GET /v1/policies/{id} answered NotFound',
    });
    const policies = (counts?.['kinds'] as Record<string, Record<string, number>>)['CyralPolicy'];
    expect(policies?.['reported']).toBe(
      (policies?.['extracted'] ?? 0) + (policies?.['skipped'] ?? 0),
    );
    expect(policies?.['skipped']).toBe(tenant.size.stalePolicies);
    expect(result.stdout).toMatch(/succeeded \(partial\)/);
    expect(result.stdout).toMatch(/CyralPolicy +\d+ +\d+ +1\n/);
    expect(result.stdout).toContain(`partial: ${String(total(skips))} skipped`);
    expect(result.stdout).toContain(tenant.id('stale-policy', 0));
    expect(result.stdout).toContain("counts reconcile with the source's totals");
    const pushed = Buffer.concat(
      receiver.requests.map((r) =>
        r.headers['content-encoding'] === 'gzip' ? gunzipSync(r.body) : r.body,
      ),
    );
    expect(pushed.toString('utf8')).toContain('CyralColumn');
    // The skips are in the logs, by id.
    expect(result.all).toContain('Skipped a Cyral object');
    expect(simulator.issuedTokens().length).toBeGreaterThan(0);
    expect(leaks({ pushed, output: result.all })).toEqual([]);
    expect(simulator.refused()).toEqual([]);
  });

  it('writes the same assets to --output files, with no secret in them', async () => {
    const result = await cli('run', 'job.yaml', '--output', 'out', '--json');
    expect(result.code).toBe(0);
    const printed = JSON.parse(result.stdout) as Record<string, unknown>;
    expect(printed).toMatchObject({ partial: true, reconciled: true });
    const runDir = join(dir, 'out', 'cyral-run');
    const manifest = JSON.parse(readFileSync(join(runDir, 'manifest.json'), 'utf8')) as unknown;
    expect(manifest).toMatchObject({ partial: true, skipped: printed['skipped'] });
    const files = readdirSync(runDir).map((f) => readFileSync(join(runDir, f), 'utf8'));
    const lines = files
      .join('\n')
      .split('\n')
      .filter((l) => l.startsWith('{"typeName"'));
    expect(lines).toHaveLength(expected());
    expect(leaks({ files: files.join('\n'), output: result.all })).toEqual([]);
  });
});

describe('perimeter run with the cyral connector across a secret rotation', () => {
  it('re-reads the rotated client secret once and resumes from its checkpoint, each asset pushed once', async () => {
    const rotated = `rotated-${Date.now().toString(36)}-secret`;
    let dataRequests = 0;
    let rotation = (): void => undefined;
    const source = await startCyralSimulator({
      size: { sidecars: 3, repos: 10 },
      onRequest: () => {
        dataRequests += 1;
        if (dataRequests === 100) rotation();
      },
    });
    const catalog = await startCatalogReceiver({});
    const home = mkdtempSync(join(tmpdir(), 'perimeter-cyral-rotation-'));
    try {
      rotation = () => {
        // The operator rotates the secret in Cyral and in the vault (here, the mounted file).
        source.rotateSecret(rotated);
        writeFileSync(join(home, 'client-secret'), `${rotated}\n`);
      };
      writeFileSync(join(home, 'client-secret'), `${source.clientSecret}\n`, { mode: 0o600 });
      writeFileSync(
        join(home, 'config.yaml'),
        [
          // Small batches cut at every checkpoint, so that checkpoints commit before the rotation.
          `catalog: { url: "${catalog.url}", batchMaxAssets: 10, checkpointMinAssets: 1 }`,
          'secretStores:',
          `  file: { type: file, allow: ["${home}/*"] }`,
          '  env: { type: env, allow: ["CYRAL_*"] }',
          `policy: { connectors: { cyral: { allowHosts: ["${source.host}"] } } }`,
          '',
        ].join('\n'),
      );
      writeFileSync(
        join(home, 'job.yaml'),
        [
          'connector: cyral',
          'runId: cyral-rotation',
          `connection: { baseUrl: "${source.url}", credentials: { clientId: env://CYRAL_CLIENT_ID, clientSecret: "file://${home}/client-secret" } }`,
          '',
        ].join('\n'),
      );
      const io = captureIo(
        { CYRAL_CLIENT_ID: source.clientId, PERIMETER_CONFIG: 'config.yaml' },
        home,
      );
      const code = await runCli(['run', 'job.yaml', '--verbose'], io, registry);
      expect(code).toBe(0);
      expect(io.text()).toContain(
        'Source rejected the credentials; refreshing secrets and retrying once',
      );
      const total = Object.values(expectedCyralAssets(source.tenant)).reduce((a, b) => a + b, 0);
      expect(catalog.completes).toEqual([
        expect.objectContaining({ runId: 'cyral-rotation', assets: total }),
      ]);
      // The counts carried in the checkpoint: the resumed run's skips are neither lost nor doubled.
      expect(catalog.completes[0]?.counts).toMatchObject({
        partial: true,
        reconciled: true,
        skipped: {
          total: Object.values(expectedSkips(source.tenant)).reduce((a, b) => a + b, 0),
        },
      });
      const counts = [...catalog.assetCounts().values()];
      expect(counts).toHaveLength(total);
      expect(counts.filter((times) => times !== 1)).toEqual([]);
      // The rotation refused one token request (the old secret), then the new secret worked.
      expect(source.stats().failedGrants).toBe(1);
      // The second attempt resumed inside the repositories: the control plane and the sidecars,
      // committed before the rotation, were not read again; the lists were (links need them).
      const calls = (pattern: RegExp): number =>
        source.requests().filter((r) => pattern.test(r)).length;
      expect(calls(/^GET \/v1\/systemInfo$/)).toBe(1);
      expect(calls(/^GET \/v1\/sidecars\/[^/]+\/listeners$/)).toBe(3);
      expect(calls(/^GET \/v1\/repos$/)).toBe(2);
      expect(findCanary(rotated, { output: io.text() })).toEqual([]);
    } finally {
      await Promise.all([source.close(), catalog.close()]);
      rmSync(home, { recursive: true, force: true });
    }
  });
});

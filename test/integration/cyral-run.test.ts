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
import { expectedCyralAssets, total } from '../fakes/cyral/expected.ts';
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
    const result = await cli('run', 'job.yaml');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/run cyral-run \(cyral extract\) succeeded/);
    expect(receiver.completes).toContainEqual(
      expect.objectContaining({ runId: 'cyral-run', assets: expected() }),
    );
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
    const result = await cli('run', 'job.yaml', '--output', 'out');
    expect(result.code).toBe(0);
    const runDir = join(dir, 'out', 'cyral-run');
    const files = readdirSync(runDir).map((f) => readFileSync(join(runDir, f), 'utf8'));
    const lines = files
      .join('\n')
      .split('\n')
      .filter((l) => l.startsWith('{"typeName"'));
    expect(lines).toHaveLength(expected());
    expect(leaks({ files: files.join('\n'), output: result.all })).toEqual([]);
  });
});

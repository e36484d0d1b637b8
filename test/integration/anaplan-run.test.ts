import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../agent/cli/cli.ts';
import type { Registry } from '../../agent/config/load.ts';
import { connector } from '../../connectors/anaplan/index.ts';
import { envStore } from '../../secrets/env/index.ts';
import { startCatalogReceiver } from '../fakes/catalog-receiver.ts';
import type { CatalogReceiver } from '../fakes/catalog-receiver.ts';
import { startAnaplanSimulator } from '../fakes/anaplan/simulator.ts';
import type { AnaplanSimulator } from '../fakes/anaplan/simulator.ts';
import { captureIo } from '../helpers/cli-io.ts';

// An Anaplan user who may not open two models: `perimeter run` succeeds, partial, with the two
// model ids skipped (no placeholder asset) in the catalog's `complete` call and in the summary.

const registry: Registry = { connectors: [connector], stores: [envStore] };
let dir: string;
let simulator: AnaplanSimulator;
let receiver: CatalogReceiver;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'perimeter-anaplan-run-'));
  simulator = await startAnaplanSimulator({ size: { forbidden: 2 } });
  receiver = await startCatalogReceiver({});
  writeFileSync(
    join(dir, 'config.yaml'),
    [
      `catalog: { url: "${receiver.url}" }`,
      'secretStores:',
      '  env: { type: env, allow: ["ANAPLAN_*"] }',
      `policy: { connectors: { anaplan: { allowHosts: [${simulator.hosts.map((h) => `"${h}"`).join(', ')}] } } }`,
      '',
    ].join('\n'),
  );
  writeFileSync(
    join(dir, 'job.yaml'),
    [
      'connector: anaplan',
      'runId: anaplan-partial',
      'connection:',
      `  authUrl: ${simulator.authUrl}`,
      `  apiUrl: ${simulator.apiUrl}`,
      '  tenant: acme',
      '  credentials:',
      '    user: env://ANAPLAN_USER',
      '    password: env://ANAPLAN_PASSWORD',
      '',
    ].join('\n'),
  );
});

afterAll(async () => {
  await Promise.all([simulator.close(), receiver.close()]);
  rmSync(dir, { recursive: true, force: true });
});

async function cli(...argv: string[]): Promise<{ code: number; stdout: string }> {
  const io = captureIo(
    {
      ANAPLAN_USER: simulator.user,
      ANAPLAN_PASSWORD: simulator.password,
      PERIMETER_CONFIG: 'config.yaml',
    },
    dir,
  );
  const code = await runCli(argv, io, registry);
  return { code, stdout: io.out.join('') };
}

describe('perimeter run with Anaplan models the user may not open', () => {
  it('succeeds partial, naming the forbidden models in the complete call and the summary', async () => {
    const forbidden = [0, 1].map((index) => simulator.tenant.modelId({ workspace: 0, index }));
    const result = await cli('run', 'job.yaml');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/run anaplan-partial \(anaplan extract\) succeeded \(partial\)/);
    expect(result.stdout).toMatch(/AnaplanModel +4 +2 +2\n/);
    expect(result.stdout).toContain('partial: 2 skipped');
    for (const id of forbidden)
      expect(result.stdout).toMatch(new RegExp(`AnaplanModel +${id} +forbidden`));

    const [complete] = receiver.completes;
    expect(complete?.counts).toMatchObject({
      partial: true,
      reconciled: true,
      skipped: { total: 2, truncated: false },
      kinds: {
        AnaplanModel: { reported: 4, extracted: 2, skipped: 2, skippedByReason: { forbidden: 2 } },
      },
    });
    const items = (complete?.counts?.['skipped'] as { items: { id: string }[] }).items;
    expect(items.map((item) => item.id).sort()).toEqual([...forbidden].sort());
    // No placeholder: no asset of the catalog names a forbidden model.
    const names = [...receiver.assetCounts().keys()];
    expect(names.filter((name) => forbidden.some((id) => name.includes(id)))).toEqual([]);
  });

  it('prints the same counts with --json', async () => {
    const result = await cli('run', 'job.yaml', '--json');
    expect(result.code).toBe(0);
    const printed = JSON.parse(result.stdout) as Record<string, unknown>;
    expect(printed).toMatchObject({
      partial: true,
      reconciled: true,
      mismatches: [],
      skipped: { total: 2, truncated: false },
    });
  });
});

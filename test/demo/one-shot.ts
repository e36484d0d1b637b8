// The one-shot part of `npm run demo` (and its fallback when no Redis is at hand): Perimeter's main job on embedded defaults. Everything runs on loopback: a Cyera
// simulator (test/fakes/cyera), an Anaplan simulator (test/fakes/anaplan), a catalog receiver (test/fakes/catalog-receiver.ts), and the real
// `perimeter` command as child processes. The Cyera client secret lives in a file (a mounted
// Kubernetes Secret in production) and the client id in an environment variable; both are
// secret references in the job file. At the end the demo scans everything that left the agent
// for the secret.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { startCatalogReceiver } from '../fakes/catalog-receiver.ts';
import { startCyeraSimulator } from '../fakes/cyera/simulator.ts';
import { findCanary } from '../helpers/canary.ts';
import { runAnaplanDemo } from './anaplan.ts';
import { runCyralDemo } from './cyral.ts';

const PERIMETER = fileURLToPath(new URL('../../agent/main.ts', import.meta.url));
const say = (text = ''): boolean => process.stdout.write(`${text}\n`);

/** Runs `perimeter ARGS` as a child process in `cwd`; its exit code and output. */
export async function perimeter(
  args: string[],
  cwd: string,
  env: Record<string, string>,
): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [PERIMETER, ...args], {
      cwd,
      env: { PATH: process.env['PATH'] ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    child.on('close', (code) => {
      resolve({ code: code ?? 1, out, err });
    });
  });
}

/** Checks, dry-runs and runs one job per connector by hand; true when all went well. */
export async function runOneShotDemo(): Promise<boolean> {
  const dir = mkdtempSync(join(tmpdir(), 'perimeter-demo-'));
  const cyera = await startCyeraSimulator({
    size: {
      datastores: 3,
      databasesPerDatastore: 2,
      schemasPerDatabase: 2,
      tablesPerSchema: 10,
      columnsPerTable: 12,
      issuesPerDatastore: 40,
      identitiesPerDatastore: 25,
    },
  });
  const catalogToken = `catalog-token-${Date.now().toString(36)}`;
  const catalog = await startCatalogReceiver({ token: catalogToken });

  mkdirSync(join(dir, 'secrets'));
  writeFileSync(join(dir, 'secrets', 'cyera-secret'), `${cyera.secret}\n`, { mode: 0o600 });
  writeFileSync(join(dir, 'secrets', 'catalog-token'), `${catalogToken}\n`, { mode: 0o600 });
  writeFileSync(
    join(dir, 'perimeter.yaml'),
    [
      'agent: { logLevel: warn }',
      `catalog: { url: "${catalog.url}", token: "file://${dir}/secrets/catalog-token" }`,
      'secretStores:',
      `  file: { type: file, allow: ["${dir}/secrets/*"] }`,
      '  env: { type: env, allow: ["CYERA_*"] }',
      'policy:',
      '  connectors:',
      `    cyera: { allowHosts: ["${cyera.host}"] }`,
      '',
    ].join('\n'),
  );
  writeFileSync(
    join(dir, 'cyera-job.yaml'),
    [
      'connector: cyera',
      'operation: extract',
      'runId: demo-cyera',
      'connection:',
      `  baseUrl: ${cyera.url}`,
      '  credentials:',
      '    clientId: env://CYERA_CLIENT_ID',
      `    secret: file://${dir}/secrets/cyera-secret`,
      'params: {}',
      '',
    ].join('\n'),
  );
  const env = { PERIMETER_CONFIG: 'perimeter.yaml', CYERA_CLIENT_ID: cyera.clientId };

  say(`Perimeter demo in ${dir}`);
  say(`  Cyera simulator ${cyera.url}  catalog receiver ${catalog.url}\n`);

  say('$ perimeter check cyera-job.yaml');
  const check = await perimeter(['check', 'cyera-job.yaml'], dir, env);
  say(check.out.trimEnd());

  say(
    '\n$ perimeter run cyera-job.yaml --output dry-run      # what would leave, before anything does',
  );
  const dry = await perimeter(['run', 'cyera-job.yaml', '--output', 'dry-run'], dir, env);
  say((dry.out || dry.err).trimEnd());
  const dryFiles = readdirSync(join(dir, 'dry-run', 'demo-cyera'));
  say(
    `  ${String(dryFiles.filter((f) => f.endsWith('.ndjson')).length)} NDJSON files + manifest.json in dry-run/demo-cyera/`,
  );

  say('\n$ perimeter run cyera-job.yaml');
  const run = await perimeter(['run', 'cyera-job.yaml'], dir, env);
  say((run.out || run.err).trimEnd());

  const byType = new Map<string, number>();
  let sample: unknown;
  const pushed: Buffer[] = [];
  for (const request of catalog.requests) {
    const body =
      request.headers['content-encoding'] === 'gzip' && request.outcome !== 'dropped'
        ? gunzipSync(request.body)
        : request.body;
    pushed.push(body);
    if (!request.path.endsWith('/batches')) {
      continue;
    }
    for (const line of body
      .toString('utf8')
      .split('\n')
      .filter((l) => l !== '')) {
      const asset = JSON.parse(line) as { typeName: string; classifications?: unknown[] };
      byType.set(asset.typeName, (byType.get(asset.typeName) ?? 0) + 1);
      if (
        sample === undefined &&
        asset.typeName === 'CyeraColumn' &&
        (asset.classifications?.length ?? 0) > 0
      ) {
        sample = asset;
      }
    }
  }
  say('\nWhat the catalog received:');
  for (const [type, count] of [...byType.entries()].sort()) {
    say(`  ${type.padEnd(16)} ${String(count).padStart(6)}`);
  }
  say(
    `  batches ${String(catalog.batches('demo-cyera').length)}, duplicates ${String(catalog.duplicates)}, complete: ${catalog.completes.some((c) => c.runId === 'demo-cyera') ? 'yes' : 'no'}`,
  );
  say(`\nA classified column as pushed:\n  ${JSON.stringify(sample)}`);

  const dryText = dryFiles
    .map((f) => readFileSync(join(dir, 'dry-run', 'demo-cyera', f), 'utf8'))
    .join('');
  const leaks = findCanary(cyera.secret, {
    pushed: Buffer.concat(pushed),
    output: check.out + check.err + dry.out + dry.err + run.out + run.err,
    dryRun: dryText,
  });
  const pushedKiB = (Buffer.concat(pushed).length / 1024).toFixed(0);
  say(
    `\nSecret scan: the Cyera client secret appears ${leaks.length === 0 ? 'nowhere' : `in ${leaks.join(', ')}`} in ${pushedKiB} KiB pushed, the dry-run files and the command output.`,
  );
  const posts = cyera.requests().filter((r) => r.startsWith('POST '));
  say(
    `Cyera saw ${String(cyera.requests().length)} requests: reads, and ${String(posts.length)} POST ${[...new Set(posts.map((r) => r.slice(5)))].join(', ')} (login); ${String(cyera.refused().length)} write attempts refused.`,
  );

  const anaplanOk = await runAnaplanDemo({ dir, catalog, perimeter, say });
  const cyralOk = await runCyralDemo({ dir, catalog, perimeter, say });

  await Promise.all([cyera.close(), catalog.close()]);
  rmSync(dir, { recursive: true, force: true });
  const cyeraOk = check.code === 0 && dry.code === 0 && run.code === 0 && leaks.length === 0;
  return cyeraOk && anaplanOk && cyralOk;
}

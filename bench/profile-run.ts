// One agent run with a CPU profile, for finding where the time goes (not part of `npm run bench`):
//
//   node bench/profile-run.ts [columns] [profile-dir]
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startService } from './services.ts';

const columns = Number(process.argv[2] ?? 300_000);
const profileDir = process.argv[3] ?? join(tmpdir(), 'perimeter-profile');
const source = await startService('cyera', { columns });
const catalog = await startService('catalog');
const dir = mkdtempSync(join(tmpdir(), 'perimeter-profile-'));
const url = String(source.info['url']);
writeFileSync(
  join(dir, 'perimeter.yaml'),
  JSON.stringify({
    agent: { logLevel: 'warn' },
    catalog: { url: catalog.info['url'] },
    policy: { connectors: { cyera: { allowHosts: [new URL(url).host] } } },
  }),
);
writeFileSync(
  join(dir, 'job.yaml'),
  JSON.stringify({
    connector: 'cyera',
    runId: 'profile',
    connection: {
      baseUrl: url,
      credentials: { clientId: 'env://CYERA_CLIENT_ID', secret: 'env://CYERA_SECRET' },
    },
  }),
);
const launcher = fileURLToPath(new URL('../bin/perimeter.js', import.meta.url));
const started = performance.now();
await new Promise((resolve) => {
  spawn(
    process.execPath,
    ['--cpu-prof', `--cpu-prof-dir=${profileDir}`, launcher, 'run', 'job.yaml'],
    {
      cwd: dir,
      stdio: 'inherit',
      env: {
        PATH: process.env['PATH'] ?? '',
        PERIMETER_CONFIG: 'perimeter.yaml',
        CYERA_CLIENT_ID: String(source.info['clientId']),
        CYERA_SECRET: String(source.info['secret']),
      },
    },
  ).on('close', resolve);
});
process.stdout.write(
  `${((performance.now() - started) / 1000).toFixed(1)} s; profile in ${profileDir}\n`,
);
await catalog.close();
await source.close();

// `npm run demo`: Perimeter's main job as a customer deploys it. The daemon (`perimeter start`)
// on Redis takes signed instructions from a demo control plane and runs them against simulators
// of every shipped connector (test/demo/daemon/). Without a Redis (none local, no redis-server to
// start) it says so and shows the one-shot commands instead (test/demo/one-shot.ts).
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runDaemonDemo } from './daemon/daemon.ts';
import { findRedis } from './daemon/redis.ts';
import { runOneShotDemo } from './one-shot.ts';

const say = (text = ''): void => {
  process.stdout.write(`${text}\n`);
};

const startedMs = Date.now();
const redis = await findRedis(process.env);
let ok: boolean;
if (typeof redis === 'string') {
  say(`No Redis for the daemon: ${redis}. Showing the one-shot commands instead.\n`);
  ok = await runOneShotDemo();
} else {
  // DEMO_DIR: where to keep the files (the test passes a folder it removes); default a new one.
  const dir = process.env['DEMO_DIR'] ?? mkdtempSync(join(tmpdir(), 'perimeter-demo-'));
  mkdirSync(dir, { recursive: true });
  try {
    ok = await runDaemonDemo({ dir, redis, say });
  } finally {
    await redis.close();
  }
  say(
    `\nFiles: ${dir} (perimeter.yaml, agent.log, ledger.txt, catalog-record.txt; the secrets removed)`,
  );
}
say(
  `${ok ? 'Done' : 'FAILED'} in ${((Date.now() - startedMs) / 1000).toFixed(1)} s; nothing left running.`,
);
process.exitCode = ok ? 0 : 1;

// The daemon part of `npm run demo`: `perimeter start` on Redis, taking signed instructions from
// a demo control plane, running them on its workers against the simulators of every shipped
// connector, pushing to a catalog receiver, then drained with SIGTERM.
import { createHash, randomBytes } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { spawnAgent, stopAgent } from '../../e2e/support/agent.ts';
import type { AgentProcess } from '../../e2e/support/agent.ts';
import { deleteKeys, dumpKeys, keysOf } from '../../integration/support/redis.ts';
import { EXTRACT_RUNS, issueInstructions } from './instructions.ts';
import type { DemoRedis } from './redis.ts';
import { catalogLines, outboundRecord, plainBody, scanForSecrets } from './report.ts';
import { readyzLines, statusLines } from './health.ts';
import { AGENT_ID, setStage } from './stage.ts';
import type { Stage } from './stage.ts';
import { followTimeline } from './timeline.ts';
import { perimeter } from '../one-shot.ts';

const PERIMETER = fileURLToPath(new URL('../../../agent/main.ts', import.meta.url));
const RUNS_TIMEOUT_MS = 40_000;
const RECORD_LINES_SHOWN = 4;

/** Runs the daemon demo in `dir`; true when every run succeeded, the tampered one was refused and nothing leaked. */
export async function runDaemonDemo(options: {
  readonly dir: string;
  readonly redis: DemoRedis;
  readonly say: (text?: string) => void;
}): Promise<boolean> {
  const { dir, say } = options;
  const prefix = `perimeter-demo-${randomBytes(4).toString('hex')}`;
  const stage = await setStage({ dir, redisUrl: options.redis.url, prefix });
  const redis = new Redis(options.redis.url);
  let agent: AgentProcess | undefined;
  try {
    say('Perimeter demo: the daemon, as a customer deploys it');
    say(`  Cyera simulator      ${stage.cyera.url}`);
    say(`  Cyral simulator      ${stage.cyral.url}`);
    say(`  Anaplan simulator    ${stage.anaplan.authUrl} (auth), ${stage.anaplan.apiUrl} (API)`);
    say(`  catalog receiver     ${stage.catalog.url}`);
    say(`  control plane        ${stage.controlPlane.url} (Ed25519 key pinned in the config)`);
    say(`  Redis                ${options.redis.label}, keys under ${prefix}:`);
    say(`\n$ perimeter start --config ${stage.configPath}`);
    agent = await spawnAgent({
      name: 'perimeter start',
      configPath: stage.configPath,
      env: stage.env,
      entry: PERIMETER,
    });
    say(`  running; health server on 127.0.0.1:${String(agent.healthPort)}`);
    const startedMs = Date.now();
    const issued = issueInstructions(stage.controlPlane, AGENT_ID);
    say(
      `\nThe control plane issues ${String(issued.length)} signed instructions; what comes back:`,
    );
    await followTimeline({
      controlPlane: stage.controlPlane,
      issued,
      say,
      startedMs,
      timeoutMs: RUNS_TIMEOUT_MS,
    });
    const health = await showHealth(agent, say);
    say('\nWhat the catalog received, per connector:');
    for (const line of catalogLines(
      stage.catalog,
      EXTRACT_RUNS.map((run) => run.runId),
    )) {
      say(line);
    }
    const refused = issued
      .filter((item) => item.tampered)
      .map((item) => ({
        item,
        ack: stage.controlPlane.records.acksOf(item.id)[0],
      }));
    say('\nRefused:');
    for (const { item, ack } of refused) {
      say(`  ${item.what}`);
      say(`  -> ${ack?.code ?? '?'}: ${ack?.message ?? ''}`);
    }
    const redisDump = await dumpKeys(redis, prefix);
    say('\n$ kill -TERM <perimeter>      # drains: stops taking work, finishes, exits');
    const drainStartMs = Date.now();
    agent.kill('SIGTERM');
    const exit = await agent.exited;
    say(`  exited ${String(exit.code)} after ${String(Date.now() - drainStartMs)} ms`);
    writeFileSync(join(dir, 'agent.log'), agent.output());
    await showLedger(stage, dir, say);
    const record = outboundRecord(stage.catalog);
    writeFileSync(join(dir, 'catalog-record.txt'), `${record.join('\n')}\n`);
    const leaks = secretScan(stage, {
      ...health,
      logs: agent.output(),
      redis: Object.values(redisDump).join('\n'),
    });
    const keyCount = Object.keys(redisDump).length;
    say(
      `\nSecret scan: ${String(Object.values(stage.canaries()).flat().length)} secret values (${Object.keys(stage.canaries()).join(', ')})`,
    );
    say(
      `  looked for in ${(agent.output().length / 1024).toFixed(0)} KiB of logs, ${String(stage.catalog.requests.length)} catalog requests, ${String(stage.controlPlane.records.requests.length)} control-plane requests, ${String(keyCount)} Redis keys, /readyz and /status:`,
    );
    say(`  ${leaks.length === 0 ? 'found nowhere' : `FOUND: ${leaks.join('; ')}`}`);
    await deleteKeys(redis, prefix);
    const left = (await keysOf(redis, prefix)).length;
    say(`\nRedis: ${String(keyCount)} keys under ${prefix}: removed, ${String(left)} left.`);
    const runsOk = EXTRACT_RUNS.every((run) =>
      stage.controlPlane.records.runEvents(run.runId).some((event) => event.type === 'succeeded'),
    );
    const refusedOk = refused.every(({ ack }) => ack?.accepted === false);
    return runsOk && refusedOk && leaks.length === 0 && exit.code === 0 && left === 0;
  } finally {
    await stopAgent(agent);
    redis.disconnect();
    await stage.close();
    // The credentials of the simulators do not outlive the demo.
    rmSync(join(dir, 'secrets'), { recursive: true, force: true });
  }
}

/**
 * The agent's own outbound record, `perimeter ledger verify` and `perimeter ledger show` (a few
 * lines; all of them in ledger.txt), and how many catalog pushes it holds by the body's sha256
 * as the catalog receiver saw them.
 */
async function showLedger(stage: Stage, dir: string, say: (text?: string) => void): Promise<void> {
  const env = stage.env;
  const config = ['--config', stage.configPath];
  const verify = await perimeter(['ledger', 'verify', ...config], dir, env);
  say(`\n$ perimeter ledger verify      # the outbound ledger's hash chain, in Redis`);
  say(`  ${(verify.out || verify.err).trim()}`);
  const show = await perimeter(['ledger', 'show', ...config], dir, env);
  const lines = show.out.trimEnd().split('\n');
  writeFileSync(join(dir, 'ledger.txt'), show.out);
  say('$ perimeter ledger show        # every request that left: run, destination, bytes, sha256');
  // A few of each: control-plane calls and catalog pushes.
  const kinds = ['  controlPlane.', '  catalog.'];
  for (const kind of kinds) {
    for (const line of lines
      .filter((entry) => entry.includes(kind))
      .slice(0, RECORD_LINES_SHOWN / 2)) {
      say(`  ${line}`);
    }
  }
  say(`  … ${String(lines.length)} entries in all, listed in ledger.txt`);
  const pushes = stage.catalog.requests.filter((request) => request.method === 'POST');
  const matched = pushes.filter((request) =>
    show.out.includes(createHash('sha256').update(request.body).digest('hex')),
  );
  say(
    `  ${String(matched.length)} of the ${String(pushes.length)} requests the catalog received are in it, by the sha256 of their body.`,
  );
}

async function showHealth(
  agent: AgentProcess,
  say: (text?: string) => void,
): Promise<Record<string, string>> {
  const readyz = await agent.get('/readyz');
  const status = await agent.get('/status');
  say(`\n$ curl 127.0.0.1:${String(agent.healthPort)}/readyz   -> ${String(readyz.status)}`);
  for (const line of readyzLines(readyz.body)) {
    say(`  ${line}`);
  }
  say(`$ curl 127.0.0.1:${String(agent.healthPort)}/status    -> ${String(status.status)}`);
  for (const line of statusLines(status.body)) {
    say(`  ${line}`);
  }
  return { '/readyz': readyz.text, '/status': status.text };
}

function secretScan(stage: Stage, captured: Record<string, string>): string[] {
  const catalogBodies = Buffer.concat(stage.catalog.requests.map(plainBody));
  const catalogHeaders = stage.catalog.requests.map((r) => JSON.stringify(r.headers)).join('\n');
  const cp = stage.controlPlane.records.requests;
  return scanForSecrets(
    stage.canaries(),
    {
      ...captured,
      'catalog bodies': catalogBodies,
      'catalog headers': catalogHeaders,
      'control-plane bodies': cp.map((r) => `${r.path}\n${r.body.toString('utf8')}`).join('\n'),
      'control-plane headers': cp.map((r) => JSON.stringify(r.headers)).join('\n'),
    },
    { 'catalog token': 'catalog headers', 'control-plane agent token': 'control-plane headers' },
  );
}

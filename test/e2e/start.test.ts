import { execFile } from 'node:child_process';
import { createServer } from 'node:net';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { freePort } from '../helpers/ports.ts';
import { REDIS_URL, uniquePrefix } from '../integration/support/redis.ts';
import { spawnAgent, stopAgent, writeConfig } from './support/agent.ts';
import { e2eConfig } from './support/config.ts';

const ENTRY = new URL('../helpers/fixture-agent.ts', import.meta.url).pathname;
const run = promisify(execFile);

/** Runs `perimeter start …` expecting it to refuse to start; returns its exit code and stderr. */
async function refusedStart(args: string[]): Promise<{ code: number; stderr: string }> {
  try {
    await run(process.execPath, [ENTRY, 'start', ...args], {
      timeout: 20_000,
      env: { PATH: process.env['PATH'] ?? '' },
    });
  } catch (error) {
    const failed = error as { code: number; stderr: string };
    return { code: failed.code, stderr: failed.stderr };
  }
  throw new Error('perimeter start did not fail');
}

function config(overrides: Record<string, unknown>): string {
  const base = e2eConfig({
    redisUrl: REDIS_URL,
    prefix: uniquePrefix('e2e-start'),
    catalogUrl: 'http://127.0.0.1:9',
    sourceUrl: 'http://127.0.0.1:9',
  });
  return writeConfig({ ...base, ...overrides });
}

describe('perimeter start refuses bad input before doing anything', () => {
  it('exits 2 on an unknown --role, a password in the Redis URL, or a health port already taken, naming the key', async () => {
    const blocker = createServer();
    const port = await freePort();
    await new Promise<void>((resolve) => blocker.listen(port, '127.0.0.1', resolve));
    try {
      const [role, redis, health] = await Promise.all([
        refusedStart(['--role', 'boss', '--config', config({})]),
        refusedStart([
          '--config',
          config({ redis: { url: 'redis://:hunter2-secret@127.0.0.1:6379' } }),
        ]),
        refusedStart(['--config', config({ health: { port, host: '127.0.0.1' } })]),
      ]);
      expect(role).toMatchObject({
        code: 2,
        stderr: expect.stringContaining('--role must be link, worker or all') as string,
      });
      expect(redis.code).toBe(2);
      expect(redis.stderr).toContain('error CONFIG_INVALID');
      expect(redis.stderr).toContain('redis.password');
      expect(redis.stderr).not.toContain('hunter2');
      expect(health.code).toBe(2);
      expect(health.stderr).toContain('health.port');
    } finally {
      blocker.close();
    }
  });
});

describe('fatal errors', () => {
  it('logs an unhandled rejection as fatal, drains and exits 1', async () => {
    const agent = await spawnAgent({
      name: 'fatal',
      configPath: config({}),
      entry: new URL('./fatal-entry.ts', import.meta.url).pathname,
      env: { FATAL_AFTER_MS: '2500', FIXTURE_SECRET: 'unused-secret' },
    });
    try {
      const exit = await agent.exited;
      expect(exit.code).toBe(1);
      const fatal = agent.records().find((record) => record['level'] === 'fatal');
      expect(fatal).toMatchObject({ msg: 'Fatal error; shutting down' });
      expect(JSON.stringify(fatal)).toContain('injected bug');
      expect(agent.records().some((record) => record.msg === 'Agent stopped')).toBe(true);
    } finally {
      await stopAgent(agent);
    }
  });
});

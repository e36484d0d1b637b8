import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCatalogReceiver } from '../fakes/catalog-receiver.ts';
import type { CatalogReceiver } from '../fakes/catalog-receiver.ts';
import { startFixtureSource } from '../fakes/fixture/source.ts';
import type { FixtureSource } from '../fakes/fixture/source.ts';
import { findCanary, makeCanary } from '../helpers/canary.ts';
import { startChild } from '../helpers/child.ts';
import { repeatedTopLevelKeys } from '../helpers/log-keys.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { tempDir } from '../helpers/temp-dir.ts';

const AGENT = fileURLToPath(new URL('../helpers/fixture-agent.ts', import.meta.url));
const canary = makeCanary('e2e-cli');
let dir: string;
let source: FixtureSource;
let receiver: CatalogReceiver;

beforeAll(async () => {
  dir = tempDir('e2e-cli');
  source = await startFixtureSource({ items: 2_000, secret: canary });
  receiver = await startCatalogReceiver({});
  writeFileSync(
    join(dir, 'perimeter.yaml'),
    `catalog:\n  url: ${receiver.url}\npolicy:\n  connectors:\n    fixture:\n      allowHosts: ["127.0.0.1:*"]\n`,
  );
  writeFileSync(
    join(dir, 'job.yaml'),
    `connector: fixture\nrunId: e2e-run\nconnection:\n  baseUrl: ${source.url}\n  credentials:\n    secret: env://FIXTURE_SECRET\n`,
  );
  writeFileSync(
    join(dir, 'bad.yaml'),
    'connector: fixture\nconnection:\n  credentials:\n    secret: "aws-sm://db#password?version=AWSPREVIOUS"\n',
  );
});

afterAll(async () => {
  await Promise.all([source.close(), receiver.close()]);
});

const env = (): Record<string, string> => ({
  FIXTURE_SECRET: canary,
  PERIMETER_CONFIG: 'perimeter.yaml',
});

describe('the perimeter command as a process', () => {
  it('runs a job to the catalog and exits 0, with no secret in its output', async () => {
    const result = await startChild(AGENT, ['run', 'job.yaml'], { cwd: dir, env: env() }).exited;
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('run e2e-run (fixture extract) succeeded: 2000 assets');
    expect(receiver.completes.map((c) => c.runId)).toContain('e2e-run');
    expect(findCanary(canary, { stdout: result.stdout, stderr: result.stderr })).toEqual([]);
  });

  it('exits 2 on bad input, naming the key path and what to do', async () => {
    const result = await startChild(AGENT, ['run', 'bad.yaml'], { cwd: dir, env: env() }).exited;
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(
      /error JOB_INVALID: .*\n(.*\n)* {2}- connection\.credentials\.secret: SECRET_INVALID_REF/,
    );
    expect(result.stderr).toContain('what to do:');
    // For a person: the error, no log line, no stack trace.
    expect(result.stderr).not.toMatch(/^\{/m);
    expect(result.stderr).not.toMatch(/^ +at /m);
  });

  it('prints the run for a person, with log lines (JSON, each key once, no stack for bad input) only when asked', async () => {
    const quiet = await startChild(AGENT, ['run', 'job.yaml'], { cwd: dir, env: env() }).exited;
    expect(quiet.code).toBe(0);
    expect(quiet.stderr).toBe('');
    expect(quiet.stdout).toMatch(
      /^run e2e-run \(fixture extract\) succeeded: 2000 assets in \d+ batches, [\d.]+ KiB, [\d.]+ s -> catalog 127\.0\.0\.1:\d+\n/,
    );
    // Then the counts per kind: what the source said exists (unknown here), extracted, skipped.
    expect(quiet.stdout.split('\n').slice(1)).toEqual([
      'KIND         REPORTED  EXTRACTED  SKIPPED',
      'FixtureItem  -         2000       0',
      '',
    ]);
    // Not a terminal: no colour codes.
    expect(quiet.stdout).not.toContain('\u001b[');
    // Asked for: JSON log lines on stderr, each key bound once.
    const verbose = await startChild(AGENT, ['run', 'job.yaml', '--verbose'], {
      cwd: dir,
      env: env(),
    }).exited;
    expect(verbose.code).toBe(0);
    const logLines = verbose.stderr.split('\n').filter((line) => line.startsWith('{'));
    expect(logLines.map((line) => (JSON.parse(line) as { msg: string }).msg)).toContain(
      'Run succeeded',
    );
    expect(logLines.flatMap(repeatedTopLevelKeys)).toEqual([]);
    // Bad input at the lowest log level: the error for a person, still no stack trace.
    const bad = await startChild(AGENT, ['run', 'bad.yaml', '--log-level', 'trace'], {
      cwd: dir,
      env: env(),
    }).exited;
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('error JOB_INVALID');
    expect(bad.stderr).not.toContain('"stack"');
    expect(bad.stderr).not.toMatch(/^ +at /m);
  });

  it('stops at a checkpoint on SIGINT and exits 1 without claiming completeness', async () => {
    source.always({ status: 200, delayMs: 50 });
    writeFileSync(
      join(dir, 'slow.yaml'),
      `connector: fixture\nrunId: e2e-slow\nconnection:\n  baseUrl: ${source.url}\n  pageSize: 20\n  credentials:\n    secret: env://FIXTURE_SECRET\n`,
    );
    // --verbose: the log lines say when the run started.
    const child = startChild(AGENT, ['run', 'slow.yaml', '--verbose'], { cwd: dir, env: env() });
    await waitFor(() => child.stderr().includes('Run started'), { timeoutMs: 15_000 });
    child.process.kill('SIGINT');
    const result = await child.exited;
    source.restore();
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('error RUN_ABORTED');
    expect(receiver.completes.map((c) => c.runId)).not.toContain('e2e-slow');
  });
});

import { existsSync, readFileSync, symlinkSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { startChild } from '../helpers/child.ts';
import { repeatedTopLevelKeys } from '../helpers/log-keys.ts';
import { tempDir } from '../helpers/temp-dir.ts';

const DEMO = fileURLToPath(new URL('../demo/demo.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('../..', import.meta.url));

describe('npm run demo (the README first command)', () => {
  it('runs the daemon on Redis from signed instructions, pushes every connector to the catalog, refuses the tampered instruction, finds no secret and drains to exit 0', async () => {
    const dir = tempDir('demo');
    const result = await startChild(DEMO, [], { cwd: ROOT, env: { DEMO_DIR: dir } }).exited;
    const out = result.stdout;
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    // The events as the control plane received them: each run queued, started, succeeded.
    for (const runId of ['demo-cyera', 'demo-cyral', 'demo-anaplan']) {
      for (const type of ['queued', 'started']) {
        expect(out).toMatch(new RegExp(`^ +\\+[\\d.]+s  ${runId} +${type}( |$)`, 'm'));
      }
      expect(out).toMatch(
        new RegExp(`^ +\\+[\\d.]+s  ${runId} +succeeded +\\d+ assets in \\d+ batches`, 'm'),
      );
    }
    expect(out).toMatch(/demo-cyera-discover +succeeded +3 selectable resources/);
    // A stale policy id in the simulated tenant: the final event says partial, with the id.
    expect(out).toMatch(
      /demo-cyral +succeeded +\d+ assets .*; partial, \d+ skipped \(.*CyralPolicy [0-9a-f]+.*\), counts reconciled/,
    );
    expect(out).toMatch(
      /demo-anaplan +succeeded +\d+ assets .*; partial, 1 skipped \(AnaplanModel [0-9A-Fa-f]+\), counts reconciled/,
    );
    expect(out).toMatch(/demo-cyral-check +succeeded +token obtained; 8 repositories visible/);
    expect(out).toMatch(/demo-anaplan-hourly\.\d{13} +succeeded +\d+ assets/);
    // What the catalog received per connector, each run completed.
    expect(out).toMatch(/^ {2}demo-cyera +1584 assets {2}complete .*CyeraColumn 1440/m);
    expect(out).toMatch(/^ {2}demo-cyral +\d+ assets {2}complete .*CyralColumn \d+/m);
    expect(out).toMatch(/^ {2}demo-anaplan +1040 assets {2}complete .*AnaplanLineItem 1000/m);
    // The tampered instruction, refused and why.
    expect(out).toMatch(
      /instruction +refused +run demo-tampered: .*\(INSTRUCTION_SIGNATURE_INVALID\)/,
    );
    expect(out).toContain(
      '-> INSTRUCTION_SIGNATURE_INVALID: The instruction signature was refused',
    );
    expect(out).toMatch(/^ {2}ready true \(running\)$/m);
    expect(out).toMatch(/link +fresh, 6 instructions accepted, 1 refused/);
    expect(out).toMatch(/^ {2}exited 0 after \d+ ms$/m);
    expect(out).toMatch(/Secret scan: .*\n.*\n {2}found nowhere$/m);
    expect(out).toMatch(/^Redis: \d+ keys under perimeter-demo-[0-9a-f]{8}: removed, 0 left\.$/m);
    expect(out).toContain(`Files: ${dir}`);
    expect(existsSync(join(dir, 'perimeter.yaml'))).toBe(true);
    expect(existsSync(join(dir, 'secrets'))).toBe(false);
    // The agent's outbound ledger: its chain verifies and holds every push the catalog received.
    expect(out).toMatch(/^ {2}ledger ok: \d+ entries after anchor 0; head \d+:[0-9a-f]{64}$/m);
    const held = /^ {2}(\d+) of the (\d+) requests the catalog received are in it/m.exec(out);
    expect(Number(held?.[2])).toBeGreaterThan(0);
    expect(held?.[1]).toBe(held?.[2]);
    expect(readFileSync(join(dir, 'ledger.txt'), 'utf8')).toMatch(/ catalog\.\S+ +demo-cyral /);
    // The catalog's own record, one line per request with the body's sha256.
    const record = readFileSync(join(dir, 'catalog-record.txt'), 'utf8');
    expect(record).toMatch(
      /^POST +202 +\d+ B {2}sha256:[0-9a-f]{16} {2}\/v1\/runs\/demo-cyral\/batches$/m,
    );
    // The daemon keeps JSON log lines, each key bound once (connectors' lines too).
    const log = readFileSync(join(dir, 'agent.log'), 'utf8').trim().split('\n');
    expect(log.every((line) => typeof JSON.parse(line) === 'object')).toBe(true);
    expect(log.filter((line) => line.includes('"component":"connector"')).length).toBeGreaterThan(
      0,
    );
    expect(log.flatMap(repeatedTopLevelKeys)).toEqual([]);
  });

  it('says why when no Redis is at hand and shows the one-shot commands instead, finding no secret in anything that left', async () => {
    // A PATH holding node and openssl only (no redis-server), and a "local" Redis on a closed port.
    const bin = tempDir('demo-path');
    for (const tool of ['node', 'openssl']) {
      symlinkSync(execFileSync('which', [tool], { encoding: 'utf8' }).trim(), join(bin, tool));
    }
    const result = await startChild(DEMO, [], {
      cwd: ROOT,
      env: { PATH: bin, DEMO_REDIS_URL: 'redis://127.0.0.1:9' },
    }).exited;
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(
      /^No Redis for the daemon: no Redis answers on 127\.0\.0\.1:9 and no redis-server is on PATH\. Showing the one-shot commands instead\.$/m,
    );
    expect(result.stdout).toMatch(/^ok {4}source +cyera +logged in; 3 datastores visible$/m);
    for (const connector of ['cyera', 'cyral', 'anaplan']) {
      expect(result.stdout).toMatch(
        new RegExp(
          `run demo-${connector} \\(${connector} extract\\) succeeded( \\(partial\\))?: \\d+ assets .* -> catalog`,
        ),
      );
    }
    expect(result.stdout).toContain('appears nowhere');
    expect(result.stdout).toContain('the key passphrase appears nowhere');
    expect(result.stdout).toMatch(/the Cyral client secret, \d+ issued tokens .* appear nowhere/);
  });
});

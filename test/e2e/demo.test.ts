import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { startChild } from '../helpers/child.ts';

const DEMO = fileURLToPath(new URL('../demo/demo.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('../..', import.meta.url));

describe('npm run demo (the README first command)', () => {
  it('checks, dry-runs and pushes simulated Cyera and Anaplan tenants, and finds no secret in anything that left', async () => {
    const result = await startChild(DEMO, [], { cwd: ROOT, env: {} }).exited;
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^ok {4}source +cyera +logged in; 3 datastores visible$/m);
    expect(result.stdout).toMatch(
      /run demo-cyera \(cyera extract\) succeeded: \d+ assets .* -> catalog/,
    );
    expect(result.stdout).toMatch(/CyeraColumn +\d+/);
    expect(result.stdout).toMatch(
      /run demo-cyral \(cyral extract\) succeeded: \d+ assets .* -> catalog/,
    );
    expect(result.stdout).toMatch(/CyralColumn +\d+/);
    expect(result.stdout).toMatch(
      /the Cyral client secret, \d+ issued tokens and the secrets planted .* appear nowhere; 0 write attempts refused/,
    );
    expect(result.stdout).toContain('complete: yes');
    expect(result.stdout).toContain('appears nowhere');
    expect(result.stdout).toContain('0 write attempts refused');
    expect(result.stdout).toMatch(
      /run demo-anaplan \(anaplan extract\) succeeded: \d+ assets .* -> catalog/,
    );
    expect(result.stdout).toContain(
      '2 certificate login(s), 2 logout(s), 0 data endpoint calls; 0 tokens left open.',
    );
    expect(result.stdout).toMatch(
      /^ok {4}source +anaplan +logged in \(certificate\); 1 workspaces visible$/m,
    );
    expect(result.stdout).toContain('the key passphrase appears nowhere');
  });
});

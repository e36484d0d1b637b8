import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { readSourceTree } from './layering.ts';
import { checkTiming } from './timing.ts';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

describe('one timing toolkit', () => {
  it('holds for every non-test file under agent/, connectors/ and secrets/', () => {
    const files = readSourceTree(REPO_ROOT);
    expect(files.has('agent/plugin-api/timing.ts')).toBe(true);
    expect(files.has('secrets/index.ts')).toBe(true);
    expect(checkTiming(files)).toEqual([]);
  });

  it('names the file and the toolkit part to use for each hand-written form', () => {
    const files = new Map([
      ['connectors/acme/client.ts', "import { setTimeout } from 'node:timers/promises';\n"],
      ['agent/queue/quit.ts', 'await Promise.race([client.quit(), timer]);\n'],
      ['secrets/acme/login.ts', 'const waitMs = Math.min(maxMs, baseMs * 2 ** attempt);\n'],
      ['agent/link/retry.ts', 'const waitMs = 100 * Math.pow(2, attempt);\n'],
      ['agent/queue/ok.ts', 'const bytes = 12 ** 2; // not a backoff\n'],
    ]);
    expect(checkTiming(files)).toEqual([
      'agent/link/retry.ts uses a hand-written 2 ** backoff (use backoffDelayMs() or Backoff from timing.ts)',
      'agent/queue/quit.ts uses Promise.race( (use waitAtMost() from timing.ts, or raceAbort() from abort.ts)',
      'connectors/acme/client.ts uses node:timers/promises (use sleep() from agent/plugin-api/timing.ts)',
      'secrets/acme/login.ts uses a hand-written 2 ** backoff (use backoffDelayMs() or Backoff from timing.ts)',
    ]);
  });

  it('allows the toolkit itself, and reports an allowed file that no longer needs it', () => {
    const allowed = new Map([
      ['agent/plugin-api/timing.ts', 'the toolkit'],
      ['agent/sink/converted.ts', 'pending'],
    ]);
    const files = new Map([
      ['agent/plugin-api/timing.ts', 'const ceilingMs = baseMs * 2 ** exponent;\n'],
      ['agent/sink/converted.ts', "import { sleep } from '../plugin-api/index.ts';\n"],
    ]);
    expect(checkTiming(files, allowed)).toEqual([
      'agent/sink/converted.ts no longer needs its entry in TIMING_ALLOWED; remove it',
    ]);
  });
});

import { describe, expect, it } from 'vitest';
import { MAX_PATTERN_SECRET_LENGTH, Redactor } from './redactor.ts';

/** Resolves when `release` is called: a run that stays in progress until the test says so. */
function gate(): { readonly wait: Promise<void>; readonly release: () => void } {
  let release = (): void => undefined;
  const wait = new Promise<void>((resolve) => {
    release = resolve;
  });
  return { wait, release };
}

describe('Redactor: secrets scoped to a run', () => {
  it('forgets a run’s secret when the run ends', async () => {
    const redactor = new Redactor();
    await redactor.scope('run-1', async () => {
      redactor.add('run-one-secret');
      await Promise.resolve();
      expect(redactor.redact('x run-one-secret y')).toBe('x [redacted] y');
    });
    expect(redactor.size).toBe(0);
    expect(redactor.redact('x run-one-secret y')).toBe('x run-one-secret y');
  });

  it('keeps a secret while another run in progress holds it, and forgets it after both', async () => {
    const redactor = new Redactor();
    const second = gate();
    const registered = gate();
    const running = redactor.scope('run-2', async () => {
      redactor.add('shared-secret-value');
      registered.release();
      await second.wait;
    });
    await registered.wait;
    await redactor.scope('run-1', async () => {
      redactor.add('shared-secret-value');
      redactor.add('only-run-one');
      await Promise.resolve();
    });
    expect(redactor.redact('shared-secret-value only-run-one')).toBe('[redacted] only-run-one');
    second.release();
    await running;
    expect(redactor.redact('shared-secret-value')).toBe('shared-secret-value');
  });

  it('keeps a secret registered outside any run, or as lasting, after the run ends', async () => {
    const redactor = new Redactor();
    redactor.add('agent-proxy-pass');
    await redactor.scope('run-1', async () => {
      redactor.add('agent-proxy-pass');
      redactor.addLasting('vault-login-token');
      await Promise.resolve();
    });
    expect(redactor.redact('agent-proxy-pass vault-login-token')).toBe('[redacted] [redacted]');
  });

  it('forgets a run’s secret when the run fails, and passes the failure on', async () => {
    const redactor = new Redactor();
    await expect(
      redactor.scope('run-1', () => {
        redactor.add('failing-run-secret');
        return Promise.reject(new Error('boom'));
      }),
    ).rejects.toThrow('boom');
    expect(redactor.size).toBe(0);
  });

  it('holds steady over many runs: memory does not grow with the runs done', async () => {
    const redactor = new Redactor();
    for (let run = 0; run < 500; run += 1) {
      await redactor.scope(`run-${run}`, async () => {
        redactor.add(`per-run-token-${run}-${'z'.repeat(40)}`);
        await Promise.resolve();
        expect(redactor.redact(`t=per-run-token-${run}-${'z'.repeat(40)}`)).toBe('t=[redacted]');
      });
    }
    expect(redactor.size).toBe(0);
  });
});

describe('Redactor: large secrets and many secrets', () => {
  it('redacts a secret of 1 MB in its fixed and escaped forms without a pattern error', () => {
    const redactor = new Redactor();
    const secret = `-----BEGIN KEY-----\n${'Ab9/'.repeat(250_000)}\n-----END KEY-----`;
    expect(secret.length).toBeGreaterThan(MAX_PATTERN_SECRET_LENGTH);
    redactor.add(secret);
    expect(redactor.redact(`key=${secret};`)).toBe('key=[redacted];');
    expect(redactor.redact(JSON.stringify({ key: secret }))).toBe('{"key":"[redacted]"}');
    const base64 = Buffer.from(secret).toString('base64');
    expect(redactor.redact(`b=${base64}`)).toBe('b=[redacted]');
    const hex = Buffer.from(secret).toString('hex').toUpperCase();
    expect(redactor.redact(`h=${hex}`)).toBe('h=[redacted]');
    expect(redactor.redact(`u=${encodeURIComponent(secret)}`)).toBe('[redacted]');
    expect(redactor.redact('an ordinary line, 100%20 sure')).toBe('an ordinary line, 100%20 sure');
  });

  it('redacts each of 5,000 secrets, compiled into bounded groups', () => {
    const redactor = new Redactor();
    for (let index = 0; index < 5000; index += 1) {
      redactor.add(`secret-${index}-${'q'.repeat(index % 50)}`);
    }
    expect(
      redactor.redact('a secret-4999-qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq b'),
    ).toBe('a [redacted] b');
    expect(redactor.redact(`a ${encodeURIComponent('secret-17-qqqqqqqqqqqqqqqqq')} b`)).toBe(
      'a [redacted] b',
    );
  });
});

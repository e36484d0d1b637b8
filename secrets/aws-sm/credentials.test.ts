import { describe, expect, it, onTestFinished, vi } from 'vitest';
import { isPerimeterError } from '../../agent/plugin-api/index.ts';
import { testStoreDeps } from '../../test/helpers/store-deps.ts';
import { STATIC_KEYS_REFRESH_MS, StaticKeys } from './credentials.ts';

const AUTH = {
  type: 'static',
  accessKeyId: 'env://KEY_ID',
  secretAccessKey: 'env://SECRET_KEY',
  sessionToken: 'env://SESSION',
} as const;

function keys(refreshMs?: number): {
  staticKeys: StaticKeys;
  env: ReturnType<typeof testStoreDeps>;
} {
  const env = testStoreDeps({
    references: {
      'env://KEY_ID': 'ASIAKEY1',
      'env://SECRET_KEY': 'secret-one',
      'env://SESSION': 'session-one',
    },
  });
  return {
    staticKeys: new StaticKeys(AUTH, env.deps, new AbortController().signal, refreshMs),
    env,
  };
}

describe('static AWS keys', () => {
  it('resolves the three references once for concurrent callers and registers the secret parts', async () => {
    const { staticKeys, env } = keys();
    const signal = new AbortController().signal;

    const [a, b] = await Promise.all([staticKeys.get(signal), staticKeys.get(signal)]);

    expect(a).toBe(b);
    expect(a).toMatchObject({
      accessKeyId: 'ASIAKEY1',
      secretAccessKey: 'secret-one',
      sessionToken: 'session-one',
    });
    expect(env.resolved).toHaveLength(3);
    expect(env.logs.redactor.redact('x secret-one session-one')).toBe('x [redacted] [redacted]');
  });

  it('reads the references again after the refresh period, so a rotated key applies', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    onTestFinished(() => {
      vi.useRealTimers();
    });
    const { staticKeys, env } = keys();
    const signal = new AbortController().signal;
    const first = await staticKeys.get(signal);
    expect(first.expiration!.getTime()).toBeGreaterThan(Date.now() + 5 * 60_000);
    env.references.set('env://SECRET_KEY', 'secret-two');

    vi.advanceTimersByTime(STATIC_KEYS_REFRESH_MS - 1);
    expect((await staticKeys.get(signal)).secretAccessKey).toBe('secret-one');
    vi.advanceTimersByTime(1);
    expect((await staticKeys.get(signal)).secretAccessKey).toBe('secret-two');
    expect(env.resolved).toHaveLength(6);
  });

  it('lets one caller give up without failing the others', async () => {
    const { staticKeys } = keys();
    const quitter = new AbortController();
    const reason = new Error('gave up');
    quitter.abort(reason);

    await expect(staticKeys.get(quitter.signal)).rejects.toBe(reason);
    await expect(staticKeys.get(new AbortController().signal)).resolves.toMatchObject({
      accessKeyId: 'ASIAKEY1',
    });
  });

  it('names the key path of a reference that does not resolve, keeping its code', async () => {
    const { staticKeys, env } = keys();
    env.references.delete('env://SESSION');

    const error: unknown = await staticKeys
      .get(new AbortController().signal)
      .catch((e: unknown) => e);

    expect(isPerimeterError(error, 'SECRET_NOT_FOUND')).toBe(true);
    expect((error as Error).message).toContain('auth.sessionToken (env://SESSION)');
  });
});

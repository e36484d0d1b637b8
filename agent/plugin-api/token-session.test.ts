import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { PerimeterError } from './errors.ts';
import type { Logger } from './logger.ts';
import { TokenSession } from './token-session.ts';
import type { IssuedToken } from './token-session.ts';

interface TestToken extends IssuedToken {
  readonly value: string;
  readonly refreshed: boolean;
}

const silent: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  child: () => silent,
};

/** A source whose tokens live `lifetimeMs`, counting logins, renewals and logouts. */
function fakeSource(lifetimeMs: number) {
  const state = { logins: 0, renewals: 0, revoked: [] as string[], refuse: false };
  const options = {
    source: 'Test',
    signal: new AbortController().signal,
    logger: silent,
    obtain: async (renewing: TestToken | undefined): Promise<TestToken> => {
      await Promise.resolve();
      if (state.refuse) {
        throw new PerimeterError('SOURCE_AUTH_FAILED', 'Test refused the credentials');
      }
      if (renewing === undefined) {
        state.logins += 1;
      } else {
        state.renewals += 1;
      }
      const n = state.logins + state.renewals;
      return { value: `t${n}`, expiresAtMs: Date.now() + lifetimeMs, refreshed: !!renewing };
    },
    revoke: async (token: TestToken): Promise<void> => {
      await Promise.resolve();
      state.revoked.push(token.value);
    },
  };
  return { state, options };
}

const refused = (): PerimeterError =>
  new PerimeterError('SOURCE_AUTH_FAILED', 'GET /x answered 401', { context: { status: 401 } });

describe('TokenSession', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('shares one login between concurrent callers', async () => {
    const { state, options } = fakeSource(300_000);
    const session = new TokenSession(options);
    const tokens = await Promise.all([session.token(), session.token(), session.token()]);
    expect(new Set(tokens.map((t) => t.value)).size).toBe(1);
    expect(state.logins).toBe(1);
  });

  it('renews ahead of expiry by a tenth of a short lifetime, passing the old token', async () => {
    const { state, options } = fakeSource(300_000);
    const session = new TokenSession(options);
    expect((await session.token()).value).toBe('t1');
    vi.advanceTimersByTime(269_999);
    expect((await session.token()).value).toBe('t1');
    vi.advanceTimersByTime(1);
    const renewed = await session.token();
    expect(renewed).toMatchObject({ value: 't2', refreshed: true });
    expect(state).toMatchObject({ logins: 1, renewals: 1 });
  });

  it('bounds the margin for long-lived tokens', async () => {
    const { options } = fakeSource(35 * 60_000);
    const session = new TokenSession({ ...options, maxRenewMarginMs: 60_000 });
    await session.token();
    vi.advanceTimersByTime(34 * 60_000 - 1);
    expect((await session.token()).value).toBe('t1');
    vi.advanceTimersByTime(1);
    expect((await session.token()).value).toBe('t2');
  });

  it('logs in again after a refusal and repeats the call once', async () => {
    const { state, options } = fakeSource(300_000);
    const session = new TokenSession(options);
    const seen: string[] = [];
    const result = await session.withToken((token) => {
      seen.push(token.value);
      return seen.length === 1 ? Promise.reject(refused()) : Promise.resolve('ok');
    });
    expect(result).toBe('ok');
    expect(seen).toEqual(['t1', 't2']);
    expect(state.logins).toBe(2);
  });

  it('throws a second refusal to the run, which then refreshes its secrets', async () => {
    const { options } = fakeSource(300_000);
    const session = new TokenSession(options);
    let calls = 0;
    const attempt = session.withToken(() => {
      calls += 1;
      return Promise.reject(refused());
    });
    await expect(attempt).rejects.toMatchObject({ code: 'SOURCE_AUTH_FAILED' });
    expect(calls).toBe(2);
  });

  it('passes other failures through untouched', async () => {
    const { state, options } = fakeSource(300_000);
    const session = new TokenSession(options);
    const failure = new PerimeterError('SOURCE_UNAVAILABLE', 'GET /x answered 503');
    await expect(session.withToken(() => Promise.reject(failure))).rejects.toBe(failure);
    expect(state.logins).toBe(1);
  });

  it('logs out once at close, also after the run was aborted, and never throws', async () => {
    const controller = new AbortController();
    const { state, options } = fakeSource(300_000);
    const session = new TokenSession({ ...options, signal: controller.signal });
    await session.token();
    controller.abort(new Error('cancelled'));
    await Promise.all([session.close(), session.close()]);
    await session.close();
    expect(state.revoked).toEqual(['t1']);
  });

  it('revokes a login still under way at close, and gives up a logout that hangs', async () => {
    const { state, options } = fakeSource(300_000);
    const session = new TokenSession(options);
    const pending = session.token();
    await session.close();
    await pending;
    expect(state.revoked).toEqual(['t1']);

    const hanging = new TokenSession({
      ...options,
      revoke: () => new Promise<void>(() => undefined),
      revokeTimeoutMs: 2_000,
    });
    await hanging.token();
    const closed = hanging.close();
    await vi.advanceTimersByTimeAsync(2_000);
    await expect(closed).resolves.toBeUndefined();
  });

  it('does nothing at close when it never logged in', async () => {
    const { state, options } = fakeSource(300_000);
    await new TokenSession(options).close();
    expect(state.revoked).toEqual([]);
  });
});

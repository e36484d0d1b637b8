import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { PerimeterError } from '../../agent/plugin-api/index.ts';
import { testStoreDeps } from '../../test/helpers/store-deps.ts';
import type { VaultApi } from './api.ts';
import type { Login } from './login.ts';
import { VaultTokenKeeper } from './token.ts';

// The keeper's own behaviour with a login and a token API of our own; the same keeper against
// the Vault fake is covered by auth.test.ts.
const api: VaultApi = {
  login: () => Promise.reject(new Error('not used')),
  lookupSelf: () =>
    Promise.resolve({ expiresAtMs: undefined, renewable: false, creationTtlSeconds: 0 }),
  renewSelf: () => Promise.reject(new Error('not used')),
  revokeSelf: () => Promise.resolve(),
  read: () => Promise.reject(new Error('not used')),
};

/** A login answering from `outcomes` in order (an error, or a token), counting its calls. */
function scriptedLogin(outcomes: (PerimeterError | string)[]): { login: Login; calls(): number } {
  let calls = 0;
  const login: Login = () => {
    const outcome = outcomes[Math.min(calls, outcomes.length - 1)]!;
    calls += 1;
    return typeof outcome === 'string'
      ? Promise.resolve({ token: outcome, loginDerived: true })
      : Promise.reject(outcome);
  };
  return { login, calls: () => calls };
}

function keeper(login: Login): VaultTokenKeeper {
  return new VaultTokenKeeper({
    login,
    api,
    logger: testStoreDeps().deps.logger,
    profileName: 'test',
    closeTimeoutMs: 100,
    // Waits at the top of each jitter range: 100 (the floor), then 198, then 297 (the max's).
    loginBackoff: { baseMs: 100, maxMs: 300 },
    random: () => 0.99,
  });
}

const refused = new PerimeterError('SECRET_ACCESS_DENIED', 'Vault refused the AppRole login');
const signal = (): AbortSignal => AbortSignal.timeout(2_000);

describe('vault token keeper', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['Date', 'setTimeout', 'clearTimeout'] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('answers a refused login again without calling Vault until its backoff passed, which grows after each refusal', async () => {
    const script = scriptedLogin([refused, refused, refused, 'hvs.after-the-fix']);
    const tokens = keeper(script.login);

    await expect(tokens.token(signal())).rejects.toBe(refused);
    await vi.advanceTimersByTimeAsync(99);
    await expect(tokens.token(signal())).rejects.toBe(refused);
    expect(script.calls()).toBe(1);

    await vi.advanceTimersByTimeAsync(1);
    await expect(tokens.token(signal())).rejects.toBe(refused);
    expect(script.calls()).toBe(2);
    await vi.advanceTimersByTimeAsync(197);
    await expect(tokens.token(signal())).rejects.toBe(refused);
    expect(script.calls()).toBe(2);

    await vi.advanceTimersByTimeAsync(1);
    await expect(tokens.token(signal())).rejects.toBe(refused);
    expect(script.calls()).toBe(3);
    await vi.advanceTimersByTimeAsync(296);
    await expect(tokens.token(signal())).rejects.toBe(refused);
    expect(script.calls()).toBe(3);

    await vi.advanceTimersByTimeAsync(1);
    expect(await tokens.token(signal())).toBe('hvs.after-the-fix');
    expect(script.calls()).toBe(4);
    await tokens.close();
  });

  it('logs in again at once after a transient failure: only refusals back off', async () => {
    const unavailable = new PerimeterError('SECRET_UNAVAILABLE', 'Vault is sealed');
    const script = scriptedLogin([unavailable, 'hvs.token']);
    const tokens = keeper(script.login);

    await expect(tokens.token(signal())).rejects.toBe(unavailable);
    expect(await tokens.token(signal())).toBe('hvs.token');
    expect(script.calls()).toBe(2);
    await tokens.close();
  });
});

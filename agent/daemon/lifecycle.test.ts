import { afterEach, describe, expect, it, vi } from 'vitest';
import { captureLogs } from '../../test/helpers/capture-logs.ts';
import { PerimeterError } from '../plugin-api/index.ts';
import { Lifecycle, describeStop, fatalStop } from './lifecycle.ts';

afterEach(() => {
  vi.useRealTimers();
});

describe('Lifecycle', () => {
  it('moves from starting to running to draining to stopped', async () => {
    const lifecycle = new Lifecycle(captureLogs().logger);
    expect(lifecycle.state).toBe('starting');
    lifecycle.markRunning();
    expect(lifecycle.state).toBe('running');
    expect(lifecycle.beginDrain()).toBe(true);
    expect(lifecycle.state).toBe('draining');
    expect(lifecycle.beginDrain()).toBe(false);
    await lifecycle.close();
    expect(lifecycle.state).toBe('stopped');
  });

  it('runs close hooks newest first', async () => {
    const lifecycle = new Lifecycle(captureLogs().logger);
    const order: string[] = [];
    for (const name of ['health', 'redis', 'worker']) {
      lifecycle.onClose(name, () => {
        order.push(name);
        return Promise.resolve();
      });
    }
    await lifecycle.close();
    expect(order).toEqual(['worker', 'redis', 'health']);
  });

  it('runs every hook even when some fail or hang, and returns their failures', async () => {
    vi.useFakeTimers();
    const logs = captureLogs();
    const lifecycle = new Lifecycle(logs.logger);
    const ran: string[] = [];
    lifecycle.onClose('health', () => {
      ran.push('health');
      return Promise.resolve();
    });
    lifecycle.onClose('hangs', () => new Promise<void>(() => undefined), { timeoutMs: 60_000 });
    lifecycle.onClose('throws', () => Promise.reject(new Error('boom')));
    let failures: { name: string; error: Error }[] | undefined;
    const closing = lifecycle.close().then((found) => (failures = found));
    await vi.advanceTimersByTimeAsync(59_999);
    expect(failures).toBeUndefined();
    expect(ran).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    await closing;
    expect(failures?.map((f) => f.name)).toEqual(['throws', 'hangs']);
    expect(failures?.[1]?.error.message).toBe('hangs did not finish within 60000 ms');
    expect(vi.getTimerCount()).toBe(0);
    expect(ran).toEqual(['health']);
    expect(lifecycle.state).toBe('failed');
    expect(logs.records().filter((r) => r['msg'] === 'Close hook failed')).toHaveLength(2);
  });

  it('closes once however often it is asked', async () => {
    const lifecycle = new Lifecycle(captureLogs().logger);
    let calls = 0;
    lifecycle.onClose('counted', () => {
      calls += 1;
      return Promise.resolve();
    });
    const [first, second] = [lifecycle.close(), lifecycle.close()];
    expect(first).toBe(second);
    await first;
    expect(calls).toBe(1);
  });

  it('refuses a hook added after shutdown began', async () => {
    const lifecycle = new Lifecycle(captureLogs().logger);
    await lifecycle.close();
    expect(() => {
      lifecycle.onClose('late', () => Promise.resolve());
    }).toThrow(/after shutdown began/);
  });
});

describe('stop reasons', () => {
  it('tells a fatal stop from a signal', () => {
    const fatal = describeStop(fatalStop(new TypeError('x is undefined')));
    expect(fatal.fatal).toBe(true);
    expect(fatal.error.cause).toBeInstanceOf(TypeError);
    expect(describeStop(new PerimeterError('RUN_ABORTED', 'Stopped by SIGTERM')).fatal).toBe(false);
    expect(describeStop(undefined)).toMatchObject({ fatal: false, error: { code: 'RUN_ABORTED' } });
  });
});

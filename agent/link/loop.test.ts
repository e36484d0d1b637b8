import { describe, expect, it } from 'vitest';
import { captureLogs } from '../../test/helpers/capture-logs.ts';
import { heldClock, instantClock } from '../../test/helpers/test-clock.ts';
import { waitFor } from '../../test/helpers/wait-for.ts';
import { PerimeterError } from '../plugin-api/index.ts';
import { runLoop } from './loop.ts';
import { LinkTracker } from './tracker.ts';

const backoff = { baseMs: 100, maxMs: 1000 };

/** A turn per step: a failure throws it, a number is a success asking for that pause. */
type Step = PerimeterError | number;

const refused = (): PerimeterError =>
  new PerimeterError('CONTROL_PLANE_REJECTED', 'The control plane refused the agent token.');
const unavailable = (retryAfterMs?: number): PerimeterError =>
  new PerimeterError('CONTROL_PLANE_UNAVAILABLE', 'The control plane is unavailable.', {
    retryable: true,
    retryAfterMs,
  });

function tracker(): { tracker: LinkTracker; logs: ReturnType<typeof captureLogs> } {
  const logs = captureLogs();
  const linkTracker = new LinkTracker({
    logger: logs.logger,
    metrics: undefined,
    freshnessMs: 60_000,
    now: Date.now,
  });
  return { tracker: linkTracker, logs };
}

/** Runs the loop over `steps` with an instant clock; returns the waits it asked for. */
async function waitsOver(steps: readonly Step[], random: () => number): Promise<number[]> {
  const clock = instantClock();
  const controller = new AbortController();
  let index = 0;
  await runLoop({
    call: 'poll',
    signal: controller.signal,
    backoff,
    random,
    clock,
    tracker: tracker().tracker,
    turn: () => {
      const step = steps[index];
      index += 1;
      if (step === undefined) {
        controller.abort();
        return Promise.resolve(0);
      }
      return typeof step === 'number' ? Promise.resolve(step) : Promise.reject(step);
    },
  });
  return [...clock.delaysMs];
}

describe('the link loop', () => {
  it('doubles the ceiling of its jittered wait per failure, and starts over after a success', async () => {
    const failures = [unavailable(), unavailable(), unavailable(), unavailable(), unavailable()];
    const waits = await waitsOver([...failures, 50, unavailable()], () => 0.5);
    expect(waits).toEqual([50, 100, 200, 400, 500, 50, 50]);
  });

  it('waits at least half of maxMs after refused credentials, still jittered above it', async () => {
    expect(await waitsOver([refused(), refused()], () => 0.1)).toEqual([500, 500]);
    const ceilingReached = [unavailable(), unavailable(), unavailable(), unavailable(), refused()];
    expect(await waitsOver(ceilingReached, () => 0.9)).toEqual([90, 180, 360, 720, 900]);
  });

  it('waits at least the Retry-After the control plane asked for', async () => {
    expect(await waitsOver([unavailable(12_000)], () => 0.5)).toEqual([12_000]);
  });

  it('logs each wait with the failure, at error when the token was refused', async () => {
    const { tracker: linkTracker, logs } = tracker();
    const controller = new AbortController();
    const clock = heldClock();
    const looping = runLoop({
      call: 'heartbeat',
      signal: controller.signal,
      backoff,
      random: () => 0,
      clock,
      tracker: linkTracker,
      turn: () => Promise.reject(refused()),
    });
    await waitFor(() => clock.pending === 1, { what: 'the backoff wait' });
    controller.abort();
    await looping;
    expect(clock.pending).toBe(0);
    expect(logs.records()).toContainEqual(
      expect.objectContaining({
        level: 'error',
        msg: 'Control plane refused the call',
        call: 'heartbeat',
        delayMs: 500,
      }),
    );
  });
});

import type { Logger } from '../plugin-api/index.ts';
import { raceAbort } from '../plugin-api/index.ts';
import { ackBody, ackableId, judgeInstruction, typeLabel } from './accept.ts';
import type { AcceptDeps, Verdict } from './accept.ts';
import type { ControlPlaneApi } from './api.ts';
import type { Intervals } from './intervals.ts';
import type { LinkTracker } from './tracker.ts';

/**
 * An empty answer that came back sooner than this is followed by a pause up to it, so a control
 * plane that does not hold the long-poll cannot spin the agent.
 */
export const MIN_EMPTY_POLL_MS = 1000;

/** What the poll loop works with. */
export interface PollDeps {
  readonly api: ControlPlaneApi;
  readonly accept: AcceptDeps;
  readonly tracker: LinkTracker;
  readonly logger: Logger;
  readonly intervals: Intervals;
  readonly signal: AbortSignal;
  /** The acks of the previous turn still in flight (one per poll loop, kept across turns). */
  readonly acks: AcksInFlight;
}

/** The acks one turn left in flight: the next turn polls without waiting for them. */
export interface AcksInFlight {
  previous: Promise<unknown>;
}

/**
 * One long-poll: waits for instructions, then judges each in order and acknowledges it. An ack
 * is sent as soon as its instruction is judged and not waited for before the next is judged,
 * nor before the next poll (acks only record a verdict already applied, so their order does
 * not matter): a turn ends once the acks of the turn before it have settled, so at most two
 * turns' acks are ever in flight. Throws only when the poll itself failed; a bad instruction or
 * a failed ack never ends the turn.
 */
export async function pollTurn(deps: PollDeps): Promise<number> {
  const startedMs = performance.now();
  let instructions: unknown[];
  try {
    instructions = await deps.api.pollInstructions(deps.intervals.pollWaitSeconds, deps.signal);
  } catch (error) {
    deps.tracker.pollDuration('error', (performance.now() - startedMs) / 1000);
    throw error;
  }
  const elapsedMs = performance.now() - startedMs;
  deps.tracker.pollDuration(instructions.length === 0 ? 'empty' : 'instructions', elapsedMs / 1000);
  deps.tracker.succeeded('poll');
  const acks: Promise<void>[] = [];
  for (const raw of instructions) {
    if (deps.signal.aborted) {
      break;
    }
    const ack = await handleInstruction(raw, deps);
    if (ack !== undefined) {
      acks.push(ack);
    }
  }
  const previous = deps.acks.previous;
  deps.acks.previous = Promise.all(acks);
  await previous;
  return instructions.length === 0 ? Math.max(0, MIN_EMPTY_POLL_MS - elapsedMs) : 0;
}

/** Judges and applies one instruction; gives its ack in flight (never rejecting), if any. */
async function handleInstruction(raw: unknown, deps: PollDeps): Promise<Promise<void> | undefined> {
  // Redis calls inside may wait out a reconnect; stop() must not wait with them.
  const verdict = await raceAbort(judgeInstruction(raw, deps.accept), deps.signal);
  const instructionId = ackableId(raw);
  const type = typeLabel(raw);
  deps.tracker.instruction(type, verdict.outcome);
  logVerdict(deps.logger, { instructionId, type }, verdict);
  // A deferred instruction is left for its lease to deliver again; one without a usable id
  // cannot be acknowledged at all (the control plane sees it never acked).
  if (verdict.outcome === 'deferred' || instructionId === undefined) {
    return undefined;
  }
  return deps.api.ack(instructionId, ackBody(verdict, raw), deps.signal).then(
    () => {
      deps.tracker.succeeded('ack');
    },
    (error: unknown) => {
      if (!deps.signal.aborted) {
        // Not retried here: the lease redelivers it, and the ledger makes that a no-op + ack.
        deps.tracker.failed('ack', error);
      }
    },
  );
}

function logVerdict(
  logger: Logger,
  fields: { readonly instructionId: string | undefined; readonly type: string },
  verdict: Verdict,
): void {
  switch (verdict.outcome) {
    case 'accepted':
      logger.info({ ...fields, result: verdict.result }, 'Instruction accepted');
      return;
    case 'duplicate':
      logger.info(fields, 'Instruction seen before; acknowledged again');
      return;
    case 'refused': {
      const { code, context, message } = verdict.error;
      logger.warn(
        { ...fields, code, problems: context['problems'], reason: message },
        'Instruction refused',
      );
      return;
    }
    case 'deferred':
      logger.warn(
        { ...fields, code: verdict.error.code, err: verdict.error },
        'Instruction deferred to its redelivery',
      );
      return;
  }
}

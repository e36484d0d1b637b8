import type { KeyObject } from 'node:crypto';
import type { PerimeterError } from '../plugin-api/index.ts';
import { toPerimeterError } from '../plugin-api/index.ts';
import type { InstructionTarget } from '../run/contract.ts';
import type { RunSpec } from '../run/types.ts';
import type { AckBody } from './api.ts';
import {
  INSTRUCTION_ID_PATTERN,
  INSTRUCTION_TYPES,
  parseInstruction,
  runToPrepare,
  toRunSpec,
  toScheduleSpec,
} from './instruction.ts';
import type { Instruction, InstructionType } from './instruction.ts';
import type { InstructionLedger } from './ledger.ts';
import { checkInstructionWindow, verifyInstructionSignature } from './signature.ts';

/** What judging an instruction needs. */
export interface AcceptDeps {
  /** The pinned key; undefined accepts unsigned instructions. */
  readonly publicKey: KeyObject | undefined;
  readonly maxClockSkewMs: number;
  /** The runtime's check of a run: connector, settings, params, references, policy. */
  readonly prepare: (spec: RunSpec) => void;
  readonly ledger: InstructionLedger;
  readonly target: InstructionTarget;
  readonly now: () => number;
}

/**
 * What became of an instruction:
 * - `accepted`: applied to the target (`result` says how, e.g. `queued`);
 * - `duplicate`: its id was accepted before (replay or redelivery), nothing done again;
 * - `refused`: invalid, unsigned, badly signed, expired, or refused by the local policy;
 * - `deferred`: could not be applied now (e.g. Redis unreachable); left unacknowledged so that
 *   the control plane delivers it again when its lease ends.
 */
export type Verdict =
  | { readonly outcome: 'accepted'; readonly result: string }
  | { readonly outcome: 'duplicate' }
  | { readonly outcome: 'refused' | 'deferred'; readonly error: PerimeterError };

/**
 * Judges one instruction as received: shape, signature over the bytes as sent, validity window,
 * replay ledger, the runtime's `prepare` (no secrets, no network), then the target. Never
 * throws: every failure is a verdict, so a bad instruction cannot stop the poll loop.
 */
export async function judgeInstruction(raw: unknown, deps: AcceptDeps): Promise<Verdict> {
  let instruction: Instruction;
  try {
    instruction = parseInstruction(raw);
    verifyInstructionSignature(raw as Record<string, unknown>, deps.publicKey);
    checkInstructionWindow(instruction, deps.now(), deps.maxClockSkewMs);
  } catch (error) {
    return { outcome: 'refused', error: toPerimeterError(error) };
  }
  const keepUntilMs = Date.parse(instruction.expiresAt) + deps.maxClockSkewMs;
  try {
    if (!(await deps.ledger.firstSeen(instruction.id, keepUntilMs))) {
      return { outcome: 'duplicate' };
    }
  } catch (error) {
    return { outcome: 'deferred', error: toPerimeterError(error) };
  }
  try {
    const spec = runToPrepare(instruction);
    if (spec !== undefined) {
      deps.prepare(spec);
    }
    return { outcome: 'accepted', result: await apply(instruction, deps.target) };
  } catch (error) {
    const failure = toPerimeterError(error);
    // Not applied: the id is released so that a redelivery is judged afresh.
    await deps.ledger.forget(instruction.id).catch(() => undefined);
    return { outcome: failure.retryable ? 'deferred' : 'refused', error: failure };
  }
}

/** The id to acknowledge under, when the instruction has a usable one. */
export function ackableId(raw: unknown): string | undefined {
  const id = (raw as { id?: unknown } | null | undefined)?.id;
  return typeof id === 'string' && INSTRUCTION_ID_PATTERN.test(id) ? id : undefined;
}

/** The instruction's type as a metric label: one of the four, or `unknown`. */
export function typeLabel(raw: unknown): InstructionType | 'unknown' {
  const type = (raw as { type?: unknown } | null | undefined)?.type;
  return INSTRUCTION_TYPES.find((known) => known === type) ?? 'unknown';
}

const MAX_ACK_MESSAGE_CHARS = 1000;
/** Echoes shorter than this are left: they carry nothing and would garble the message. */
const MIN_SCRUBBED_CHARS = 6;

/**
 * The ack of a verdict (never called for `deferred`). A refusal names the code and what is
 * wrong, but never echoes a value of the instruction's connection or params: those may name
 * hosts and secret references, and the control plane already knows what it sent.
 */
export function ackBody(verdict: Exclude<Verdict, { outcome: 'deferred' }>, raw: unknown): AckBody {
  if (verdict.outcome !== 'refused') {
    return { accepted: true };
  }
  let message = verdict.error.message;
  for (const echo of echoesOf(raw)) {
    message = message.replaceAll(echo, '[…]');
  }
  if (message.length > MAX_ACK_MESSAGE_CHARS) {
    message = `${message.slice(0, MAX_ACK_MESSAGE_CHARS)}…`;
  }
  return { accepted: false, error: { code: verdict.error.code, message } };
}

async function apply(instruction: Instruction, target: InstructionTarget): Promise<string> {
  switch (instruction.type) {
    case 'run':
      return target.enqueueRun(toRunSpec(instruction.run));
    case 'cancel':
      return target.cancelRun(instruction.cancel.runId);
    case 'schedule':
      await target.upsertSchedule(toScheduleSpec(instruction.schedule));
      return 'scheduled';
    case 'unschedule':
      return target.removeSchedule(instruction.unschedule.scheduleId);
  }
}

/** Strings under the connection and params of the instruction, longest first, with URL hosts. */
function echoesOf(raw: unknown): string[] {
  const record = (raw ?? {}) as Record<string, unknown>;
  const run = (record['run'] ??
    (record['schedule'] as Record<string, unknown> | undefined)?.['run']) as
    Record<string, unknown> | undefined;
  // The connector name stays: it is vocabulary, and the refusal must be able to name it.
  const { connector: _connector, ...settings } = (run?.['connection'] ?? {}) as Record<
    string,
    unknown
  >;
  const found = new Set<string>();
  collectStrings([settings, run?.['connectionId'], run?.['params']], found, 0);
  for (const text of [...found]) {
    const url = URL.parse(text);
    if (url !== null && url.host !== '') {
      found.add(url.host);
      found.add(url.hostname);
    }
  }
  return [...found]
    .filter((text) => text.length >= MIN_SCRUBBED_CHARS)
    .sort((a, b) => b.length - a.length);
}

function collectStrings(value: unknown, found: Set<string>, depth: number): void {
  if (typeof value === 'string') {
    found.add(value);
  } else if (typeof value === 'object' && value !== null && depth < 32) {
    for (const child of Object.values(value)) {
      collectStrings(child, found, depth + 1);
    }
  }
}

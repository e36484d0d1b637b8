import { z } from 'zod';
import { formatPath } from '../run/problems.ts';
import type { ConfigProblem } from '../run/problems.ts';
import {
  InlineConnectionSchema,
  ParamsSchema,
  RunFieldsSchema,
  RunIdSchema,
  ScheduleFieldsSchema,
  ScheduleIdSchema,
  refineRecurrence,
  refineRun,
} from '../run/spec.ts';
import type { ScheduledRun, ScheduleSpec } from '../run/spec.ts';
import { JsonValueSchema, PerimeterError, nestsDeeperThan } from '../plugin-api/index.ts';
import type { RunSpec } from '../run/types.ts';
import { MAX_INSTRUCTION_BYTES, jsonExceeds } from './instruction-size.ts';

/** The instruction types of protocol v1. */
export const INSTRUCTION_TYPES = ['run', 'cancel', 'schedule', 'unschedule'] as const;
export type InstructionType = (typeof INSTRUCTION_TYPES)[number];

/** Instruction ids: UUIDs, ULIDs or prefixed ids; also a path segment of the ack call. */
export const INSTRUCTION_ID_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * Longest validity window (`expiresAt - issuedAt`). The replay ledger keeps an id until its
 * instruction expires, so an unbounded window would be an unbounded memory of ids.
 */
export const MAX_INSTRUCTION_LIFETIME_MS = 7 * 24 * 3600 * 1000;

const MAX_NESTING = 32;
const MAX_LISTED_PROBLEMS = 10;
const MAX_PATH_CHARS = 120;

const timestamp = z.iso.datetime({
  offset: true,
  message: 'must be an ISO 8601 date-time with a zone, e.g. 2025-01-31T12:00:00Z',
});

/**
 * The instruction's wire form of a run (agent/run/spec.ts): no `origin` (every instruction is
 * the control plane's), `params` may be left out, and an inline connection is flat,
 * `{connector, ...settings}`, credentials as secret references.
 */
const WireRunFieldsSchema = RunFieldsSchema.omit({ origin: true }).extend({
  connection: InlineConnectionSchema.pick({ connector: true }).catchall(JsonValueSchema).optional(),
  params: ParamsSchema.default({}),
});

const RunPayloadSchema = refineRun(WireRunFieldsSchema);
const ScheduledRunSchema = refineRun(WireRunFieldsSchema.omit({ runId: true }));
const SchedulePayloadSchema = refineRecurrence(
  ScheduleFieldsSchema.extend({ run: ScheduledRunSchema }),
);

const base = {
  id: z.string().regex(INSTRUCTION_ID_PATTERN, 'must be 1-128 of A-Z a-z 0-9 . _ : -'),
  issuedAt: timestamp,
  expiresAt: timestamp,
  signature: z.string().max(4096).optional(),
};

/** An instruction of protocol v1 (DESIGN §4, docs/protocol/control-plane.md). Unknown keys are refused. */
export const InstructionSchema = z
  .discriminatedUnion('type', [
    z.strictObject({ ...base, type: z.literal('run'), run: RunPayloadSchema }),
    z.strictObject({
      ...base,
      type: z.literal('cancel'),
      cancel: z.strictObject({ runId: RunIdSchema }),
    }),
    z.strictObject({ ...base, type: z.literal('schedule'), schedule: SchedulePayloadSchema }),
    z.strictObject({
      ...base,
      type: z.literal('unschedule'),
      unschedule: z.strictObject({ scheduleId: ScheduleIdSchema }),
    }),
  ])
  .superRefine((instruction, ctx) => {
    const lifetimeMs = Date.parse(instruction.expiresAt) - Date.parse(instruction.issuedAt);
    if (lifetimeMs <= 0) {
      ctx.addIssue({ code: 'custom', path: ['expiresAt'], message: 'must be after issuedAt' });
    } else if (lifetimeMs > MAX_INSTRUCTION_LIFETIME_MS) {
      ctx.addIssue({
        code: 'custom',
        path: ['expiresAt'],
        message: 'must be at most 7 days after issuedAt',
      });
    }
  });

/** A validated instruction. */
export type Instruction = z.output<typeof InstructionSchema>;
type RunPayload = z.output<typeof RunPayloadSchema>;
type SchedulePayload = z.output<typeof SchedulePayloadSchema>;

/**
 * Validates an instruction's shape. Throws INSTRUCTION_INVALID listing the key paths and what is
 * wrong with each (zod's messages name expected types, never the value received).
 */
export function parseInstruction(raw: unknown): Instruction {
  if (jsonExceeds(raw, MAX_INSTRUCTION_BYTES)) {
    throw invalidInstruction(raw, [{ path: '(root)', message: 'is larger than 1 MiB' }]);
  }
  if (nestsDeeperThan(raw, MAX_NESTING)) {
    throw invalidInstruction(raw, [
      { path: '(root)', message: `nests deeper than ${MAX_NESTING} levels` },
    ]);
  }
  const parsed = InstructionSchema.safeParse(raw);
  if (!parsed.success) {
    throw invalidInstruction(raw, problemsOf(parsed.error));
  }
  return parsed.data;
}

/** The run a `run` instruction starts, as it travels through the queue. */
export function toRunSpec(run: RunPayload): RunSpec {
  return { runId: run.runId, ...connectionAndWork(run) };
}

/** The recurring run a `schedule` instruction sets up. */
export function toScheduleSpec(schedule: SchedulePayload): ScheduleSpec {
  return {
    scheduleId: schedule.scheduleId,
    ...(schedule.cron === undefined ? {} : { cron: schedule.cron }),
    ...(schedule.everySeconds === undefined ? {} : { everySeconds: schedule.everySeconds }),
    ...(schedule.timezone === undefined ? {} : { timezone: schedule.timezone }),
    run: connectionAndWork(schedule.run),
  };
}

/**
 * The run to check with the runtime's `prepare` before the instruction is accepted: the run
 * itself, or a schedule's run under the schedule id. Cancel and unschedule carry none.
 */
export function runToPrepare(instruction: Instruction): RunSpec | undefined {
  switch (instruction.type) {
    case 'run':
      return toRunSpec(instruction.run);
    case 'schedule':
      return {
        runId: instruction.schedule.scheduleId,
        ...toScheduleSpec(instruction.schedule).run,
      };
    case 'cancel':
    case 'unschedule':
      return undefined;
  }
}

function connectionAndWork(run: z.output<typeof ScheduledRunSchema>): ScheduledRun {
  const work = { operation: run.operation, params: run.params, origin: 'controlPlane' as const };
  if (run.connectionId !== undefined) {
    return { ...work, connectionId: run.connectionId };
  }
  const { connector, ...config } = run.connection ?? { connector: '' };
  return { ...work, connection: { connector, config } };
}

function problemsOf(error: z.ZodError): ConfigProblem[] {
  return error.issues.map((issue) => {
    if (issue.code === 'unrecognized_keys') {
      const keys = issue.keys.map((key) => formatPath([...issue.path, key]));
      return { path: keys.join(', '), message: 'unknown key; protocol v1 does not define it' };
    }
    return { path: formatPath(issue.path) || '(root)', message: issue.message };
  });
}

/** One INSTRUCTION_INVALID carrying every problem; long paths (sender-chosen keys) are cut. */
function invalidInstruction(raw: unknown, problems: readonly ConfigProblem[]): PerimeterError {
  const cut = (path: string): string =>
    path.length > MAX_PATH_CHARS ? `${path.slice(0, MAX_PATH_CHARS)}…` : path;
  const listed = problems.slice(0, MAX_LISTED_PROBLEMS);
  const lines = listed.map((problem) => `  - ${cut(problem.path)}: ${problem.message}`);
  if (problems.length > listed.length) {
    lines.push(`  - … and ${problems.length - listed.length} more`);
  }
  const id = (raw as { id?: unknown } | null)?.id;
  const what =
    typeof id === 'string' && INSTRUCTION_ID_PATTERN.test(id)
      ? `Instruction ${id}`
      : 'The instruction';
  const noun = problems.length === 1 ? 'problem' : 'problems';
  return new PerimeterError(
    'INSTRUCTION_INVALID',
    `${what} has ${problems.length} ${noun}:\n${lines.join('\n')}`,
    { context: { problems: listed.map((problem) => cut(problem.path)) } },
  );
}

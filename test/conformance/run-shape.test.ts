import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../agent/config/load.ts';
import { parseJobFile } from '../../agent/config/job-file.ts';
import { parseInstruction } from '../../agent/link/instruction.ts';
import { parseRunJob } from '../../agent/queue/jobs.ts';
import { EVERY_SECONDS_MAX, EVERY_SECONDS_MIN, parseScheduleSpec } from '../../agent/run/spec.ts';
import { secretStores } from '../../secrets/index.ts';
import { draft, runDraft } from '../fakes/control-plane/signing.ts';

// A run and a schedule have one shape (agent/run/spec.ts); each form a run takes on its way in
// (instruction, job file, config job) and through the queue must agree with it. Each case of the
// tables below is run against every parser that carries that part of the shape.

const at = { id: 'ins-1', now: Date.parse('2025-06-01T12:00:00Z') };
const work = { operation: 'extract', connectionId: 'src-a', params: {} } as const;

/** What a parser made of the input: accepted, or refused with the error code and problem paths. */
type Verdict = { readonly accepted: true } | { readonly code: string; readonly paths: string };

function verdict(parse: () => unknown): Verdict {
  try {
    parse();
    return { accepted: true };
  } catch (error) {
    const { code, context } = error as { code?: string; context?: { problems?: string[] } };
    return { code: code ?? 'none', paths: (context?.problems ?? []).join(' ') };
  }
}

const configWithJob = (job: Record<string, unknown>): unknown =>
  loadConfig(
    { env: {}, file: { path: 'perimeter.yaml', text: JSON.stringify({ jobs: [job] }) } },
    { connectors: [], stores: secretStores },
  );

const scheduleParsers = {
  instruction: (recurrence: Record<string, unknown>) =>
    parseInstruction(
      draft('schedule', { schedule: { scheduleId: 'nightly', run: work, ...recurrence } }, at),
    ),
  'config job': (recurrence: Record<string, unknown>) =>
    configWithJob({ id: 'nightly', connection: 'src-a', schedule: recurrence }),
  'queue schedule': (recurrence: Record<string, unknown>) =>
    parseScheduleSpec({
      scheduleId: 'nightly',
      run: { ...work, origin: 'controlPlane' },
      ...recurrence,
    }),
};

const runIdParsers = {
  instruction: (runId: string) => parseInstruction(runDraft({ runId, connectionId: 'src-a' }, at)),
  'job file': (runId: string) =>
    parseJobFile('job.yaml', JSON.stringify({ connection: 'src-a', runId })),
  'config job': (runId: string) => configWithJob({ id: runId, connection: 'src-a' }),
  'queue payload': (runId: string) =>
    parseRunJob({ kind: 'run', spec: { ...work, runId, origin: 'local' } }, 'Run'),
};

const EXPECTED_CODE: Record<string, string> = {
  instruction: 'INSTRUCTION_INVALID',
  'job file': 'JOB_INVALID',
  'config job': 'CONFIG_INVALID',
  'queue schedule': 'JOB_INVALID',
  'queue payload': 'JOB_INVALID',
};

const SCHEDULES: readonly [string, Record<string, unknown>, 'accept' | 'refuse'][] = [
  ['a cron of 5 fields', { cron: '0 2 * * *' }, 'accept'],
  ['a cron of 6 fields (seconds first)', { cron: '*/30 * * * * *' }, 'accept'],
  ['a cron with a time zone', { cron: '0 2 * * *', timezone: 'Europe/Paris' }, 'accept'],
  ['the shortest interval', { everySeconds: EVERY_SECONDS_MIN }, 'accept'],
  ['an hourly interval', { everySeconds: 3600 }, 'accept'],
  ['the longest interval', { everySeconds: EVERY_SECONDS_MAX }, 'accept'],
  ['neither cron nor everySeconds', {}, 'refuse'],
  ['both cron and everySeconds', { cron: '0 2 * * *', everySeconds: 3600 }, 'refuse'],
  ['an interval of one second', { everySeconds: 1 }, 'refuse'],
  ['an interval just under a minute', { everySeconds: EVERY_SECONDS_MIN - 1 }, 'refuse'],
  ['an interval over a year', { everySeconds: EVERY_SECONDS_MAX + 1 }, 'refuse'],
  ['a fractional interval', { everySeconds: 90.5 }, 'refuse'],
  ['an interval given as a string', { everySeconds: '3600' }, 'refuse'],
  ['a cron of two words', { cron: 'every day' }, 'refuse'],
  ['an unknown time zone', { cron: '0 2 * * *', timezone: 'Mars/Olympus' }, 'refuse'],
  ['an unknown key', { cron: '0 2 * * *', jitter: 5 }, 'refuse'],
];

const RUN_IDS: readonly [string, string, 'accept' | 'refuse'][] = [
  ['a plain id', 'run-1', 'accept'],
  ['dots, underscores and capitals', 'Nightly_2026.01-31', 'accept'],
  ['digits followed by a letter', '007x', 'accept'],
  ['94 characters', 'a'.repeat(94), 'accept'],
  ['an empty id', '', 'refuse'],
  ['only digits', '12345', 'refuse'],
  ['a colon (BullMQ key separator)', 'run:1', 'refuse'],
  ['a slash', 'runs/1', 'refuse'],
  ['a space', 'run 1', 'refuse'],
  ['129 characters', 'a'.repeat(129), 'refuse'],
];

describe('one schedule shape', () => {
  describe.each(Object.entries(scheduleParsers))('the %s', (form, parse) => {
    it.each(SCHEDULES)('%s: %s', (_name, recurrence, expected) => {
      const result = verdict(() => parse(recurrence));
      if (expected === 'accept') {
        expect(result).toEqual({ accepted: true });
      } else {
        expect(result).toMatchObject({ code: EXPECTED_CODE[form] });
        expect(result).toHaveProperty(
          'paths',
          expect.stringMatching(/cron|everySeconds|timezone|jitter/),
        );
      }
    });
  });
});

describe('one run id rule', () => {
  describe.each(Object.entries(runIdParsers))('the %s', (form, parse) => {
    it.each(RUN_IDS)('%s: %s', (_name, runId, expected) => {
      const result = verdict(() => parse(runId));
      if (expected === 'accept') {
        expect(result).toEqual({ accepted: true });
      } else {
        expect(result).toMatchObject({ code: EXPECTED_CODE[form] });
        expect(result).toHaveProperty('paths', expect.stringMatching(/runId|jobs\[0\]\.id/));
      }
    });
  });

  it('keeps a config job id short enough for the schedule id and run ids made from it', () => {
    expect(verdict(() => configWithJob({ id: 'a'.repeat(95), connection: 'src-a' }))).toEqual({
      code: 'CONFIG_INVALID',
      paths: 'jobs[0].id',
    });
    expect(
      verdict(() =>
        parseScheduleSpec({
          scheduleId: `local.${'a'.repeat(94)}`,
          run: { ...work, origin: 'local' },
          cron: '0 2 * * *',
        }),
      ),
    ).toEqual({ accepted: true });
  });
});

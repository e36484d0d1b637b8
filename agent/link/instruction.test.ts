import { readFileSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { draft, runDraft } from '../../test/fakes/control-plane/signing.ts';
import { parseInstruction, runToPrepare, toRunSpec, toScheduleSpec } from './instruction.ts';
import { inlineConnection } from '../../test/helpers/link-harness.ts';

const NOW = Date.parse('2025-06-01T12:00:00Z');
const at = { id: 'ins-1', now: NOW };

/** The OpenAPI document's Instruction schema, so the document and the zod schema agree. */
function openApiInstructionValidator(): (value: unknown) => boolean {
  const document = parseYaml(
    readFileSync(
      new URL('../../docs/protocol/control-plane.openapi.yaml', import.meta.url),
      'utf8',
    ),
  ) as object;
  const ajv = new Ajv2020({ allErrors: true, strict: false });
  addFormatsModule.default(ajv);
  ajv.addSchema(document, 'control-plane');
  const validate = ajv.getSchema('control-plane#/components/schemas/Instruction');
  if (validate === undefined) {
    throw new Error('Instruction schema missing from the OpenAPI document');
  }
  return (value) => validate(value) === true;
}

const matchesOpenApi = openApiInstructionValidator();

const schedule = (fields: Record<string, unknown>): Record<string, unknown> =>
  draft(
    'schedule',
    {
      schedule: {
        scheduleId: 'nightly',
        run: { connectionId: 'fixture-main', operation: 'extract' },
        ...fields,
      },
    },
    at,
  );

const VALID: readonly [string, Record<string, unknown>][] = [
  ['a run of a local connection', runDraft({ runId: 'run-1', connectionId: 'fixture-main' }, at)],
  [
    'a run of an inline connection',
    runDraft({ runId: 'run-2', connection: inlineConnection(), operation: 'discover' }, at),
  ],
  ['a cancel', draft('cancel', { cancel: { runId: 'run-1' } }, at)],
  ['a cron schedule with a time zone', schedule({ cron: '0 2 * * *', timezone: 'Europe/Paris' })],
  ['an every-N schedule', schedule({ everySeconds: 3600 })],
  ['an unschedule', draft('unschedule', { unschedule: { scheduleId: 'nightly' } }, at)],
  [
    'a signed run',
    {
      ...runDraft({ runId: 'run-3', connectionId: 'fixture-main' }, at),
      signature: 'eyJhbGciOiJFZERTQSJ9..c2ln',
    },
  ],
];

const run = (fields: Record<string, unknown>): Record<string, unknown> =>
  runDraft({ runId: 'run-1', connectionId: 'fixture-main', ...fields }, at);
const days = (count: number): string => new Date(NOW + count * 86_400_000).toISOString();

const INVALID: readonly [string, unknown, string][] = [
  ['no id', { ...run({}), id: undefined }, 'id'],
  ['an id with a slash', { ...run({}), id: 'a/b' }, 'id'],
  ['an unknown type', { ...run({}), type: 'delete' }, 'type'],
  ['a run without runId', run({ runId: undefined }), 'run.runId'],
  ['an all-digit runId', run({ runId: '12345' }), 'run.runId'],
  ['both connectionId and connection', run({ connection: inlineConnection() }), 'run.connectionId'],
  ['neither connectionId nor connection', run({ connectionId: undefined }), 'run.connectionId'],
  ['a write operation', run({ operation: 'write' }), 'run.operation'],
  ['params that are not an object', run({ params: [1, 2] }), 'run.params'],
  [
    'a connector name in capitals',
    run({ connectionId: undefined, connection: inlineConnection({ connector: 'Fixture' }) }),
    'run.connection.connector',
  ],
  ['an issuedAt that is no date', { ...run({}), issuedAt: 'yesterday' }, 'issuedAt'],
  ['an expiresAt before issuedAt', { ...run({}), expiresAt: days(-1) }, 'expiresAt'],
  ['a window longer than 7 days', { ...run({}), expiresAt: days(8) }, 'expiresAt'],
  ['an unknown top-level key', { ...run({}), priority: 1 }, 'priority'],
  ['a cancel payload on a run', { ...run({}), cancel: { runId: 'run-1' } }, 'cancel'],
  ['a signature that is not a string', { ...run({}), signature: 42 }, 'signature'],
  [
    'both cron and everySeconds',
    schedule({ cron: '0 2 * * *', everySeconds: 3600 }),
    'schedule.cron',
  ],
  ['an interval under a minute', schedule({ everySeconds: 10 }), 'schedule.everySeconds'],
  ['an interval over a year', schedule({ everySeconds: 31_536_001 }), 'schedule.everySeconds'],
  [
    'a scheduleId of 101 characters',
    schedule({ scheduleId: 'a'.repeat(101), cron: '0 2 * * *' }),
    'schedule.scheduleId',
  ],
  [
    'an unknown time zone',
    schedule({ cron: '0 2 * * *', timezone: 'Mars/Olympus' }),
    'schedule.timezone',
  ],
  ['a cron of two fields', schedule({ cron: 'every day' }), 'schedule.cron'],
  ['a cancel without runId', draft('cancel', { cancel: {} }, at), 'cancel.runId'],
  ['a string', 'run everything', '(root)'],
  ['null', null, '(root)'],
  ['an array', [run({})], '(root)'],
];

describe('parseInstruction', () => {
  it.each(VALID)('accepts %s, which the OpenAPI document also accepts', (_name, instruction) => {
    expect(() => parseInstruction(instruction)).not.toThrow();
    expect(matchesOpenApi(instruction)).toBe(true);
  });

  it.each(INVALID)(
    'refuses %s with INSTRUCTION_INVALID naming the key path',
    (_name, instruction, path) => {
      const cleaned = JSON.parse(JSON.stringify(instruction)) as unknown;
      let error: { code?: string; context?: { problems?: string[] } } | undefined;
      try {
        parseInstruction(cleaned);
      } catch (thrown) {
        error = thrown as typeof error;
      }
      expect(error?.code).toBe('INSTRUCTION_INVALID');
      expect(error?.context?.problems?.join(' ')).toContain(path);
    },
  );

  const SEMANTIC_ONLY = new Set([
    'an expiresAt before issuedAt',
    'a window longer than 7 days',
    'an unknown time zone',
    'a cron of two fields',
  ]);
  it.each(INVALID.filter(([name]) => !SEMANTIC_ONLY.has(name)))(
    'finds the OpenAPI document refusing %s as well',
    (_name, instruction) => {
      expect(matchesOpenApi(JSON.parse(JSON.stringify(instruction)))).toBe(false);
    },
  );

  it('refuses nesting deeper than 32 levels without recursing into it', () => {
    let deep: unknown = 'bottom';
    for (let level = 0; level < 5000; level += 1) {
      deep = { deep };
    }
    expect(() => parseInstruction(run({ params: { deep } }))).toThrow(/nests deeper than 32/);
  });

  it('lists every problem at once but never echoes the values it refused', () => {
    const secretish = 'sk_live_0123456789abcdef';
    const instruction = {
      ...run({ operation: secretish }),
      id: `x/${secretish}`,
      issuedAt: secretish,
    };
    let message = '';
    try {
      parseInstruction(instruction);
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/3 problems/);
    expect(message).not.toContain(secretish);
  });

  it('cuts long key paths and the list of problems', () => {
    const keys = Object.fromEntries(
      Array.from({ length: 30 }, (_, i) => [`${'k'.repeat(500)}${i}`, 1]),
    );
    let message = '';
    try {
      parseInstruction({ ...run({}), ...keys });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message.length).toBeLessThan(3000);
  });
});

describe('instruction conversion', () => {
  it('turns an inline run into a RunSpec of origin controlPlane', () => {
    const parsed = parseInstruction(
      runDraft(
        { runId: 'run-2', connection: inlineConnection(), params: { attemptWrite: false } },
        at,
      ),
    );
    expect(parsed.type).toBe('run');
    expect(parsed.type === 'run' ? toRunSpec(parsed.run) : undefined).toEqual({
      runId: 'run-2',
      operation: 'extract',
      params: { attemptWrite: false },
      origin: 'controlPlane',
      connection: {
        connector: 'fixture',
        config: { baseUrl: 'http://127.0.0.1:9', credentials: { secret: 'env://FIXTURE_SECRET' } },
      },
    });
  });

  it('turns a schedule into a ScheduleSpec whose run has no id', () => {
    const parsed = parseInstruction(schedule({ cron: '0 2 * * *', timezone: 'UTC' }));
    expect(parsed.type === 'schedule' ? toScheduleSpec(parsed.schedule) : undefined).toEqual({
      scheduleId: 'nightly',
      cron: '0 2 * * *',
      timezone: 'UTC',
      run: {
        connectionId: 'fixture-main',
        operation: 'extract',
        params: {},
        origin: 'controlPlane',
      },
    });
  });

  it('prepares a schedule under its schedule id and nothing for a cancel', () => {
    expect(runToPrepare(parseInstruction(schedule({ everySeconds: 60 })))?.runId).toBe('nightly');
    expect(
      runToPrepare(parseInstruction(draft('cancel', { cancel: { runId: 'run-1' } }, at))),
    ).toBeUndefined();
  });
});

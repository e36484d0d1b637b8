import { mulberry32 } from '../../helpers/random.ts';
import { runDraft } from './signing.ts';

/**
 * Generated malformed instructions, for tests that the agent refuses each with a stable code
 * and keeps answering: 16 ways to break a valid run instruction, plus junk with no usable id.
 * Valid instructions are interleaved (one every 50) so a test can check they still run.
 */
type Draft = Record<string, unknown>;
type Mutation = (base: Draft, random: () => number) => Draft;

const HUGE = 'x'.repeat(100_000);
const runOf = (d: Draft): Draft => d['run'] as Draft;
const withRun = (d: Draft, run: Draft): Draft => ({ ...d, run: { ...runOf(d), ...run } });
const without = (d: Draft, key: string): Draft =>
  Object.fromEntries(Object.entries(d).filter(([name]) => name !== key));
const pick = <T>(items: readonly T[], random: () => number): T =>
  items[Math.floor(random() * items.length)] as T;

/** An inline connection of the fixture connector (credentials as references). */
function inlineConnection(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    connector: 'fixture',
    baseUrl: 'http://127.0.0.1:9',
    credentials: { secret: 'env://FIXTURE_SECRET' },
    ...overrides,
  };
}

/** Ways to break a valid run instruction; each is invalid whatever the random draw. */
const MUTATIONS: Record<string, Mutation> = {
  missingField: (d, r) => without(d, pick(['type', 'issuedAt', 'expiresAt', 'run'], r)),
  missingRunField: (d, r) => ({
    ...d,
    run: without(runOf(d), pick(['runId', 'operation', 'connectionId'], r)),
  }),
  wrongType: (d, r) => ({
    ...d,
    [pick(['type', 'issuedAt', 'expiresAt', 'run'], r)]: pick([42, true, null, [], { a: 1 }], r),
  }),
  wrongRunType: (d, r) =>
    withRun(d, {
      [pick(['runId', 'operation', 'params', 'connectionId'], r)]: pick([7, false, null, ['x']], r),
    }),
  hugeString: (d, r) => withRun(d, { [pick(['runId', 'operation', 'connectionId'], r)]: HUGE }),
  hugeParams: (d) =>
    withRun(d, { params: { blob: HUGE, nested: { deeper: [HUGE] } }, connectionId: 'nosuch' }),
  badRef: (d, r) =>
    withRun(d, {
      connectionId: undefined,
      connection: inlineConnection({
        credentials: {
          secret: pick(
            [
              'plain-password',
              'ftp://host/x',
              'env://',
              'vault://kv/x',
              'env://NOT_ALLOWED_VAR',
              '',
            ],
            r,
          ),
        },
      }),
    }),
  unknownConnector: (d, r) =>
    withRun(d, {
      connectionId: undefined,
      connection: inlineConnection({ connector: `nosuch-${Math.floor(r() * 1e6)}` }),
    }),
  unknownConnection: (d, r) => withRun(d, { connectionId: `missing-${Math.floor(r() * 1e6)}` }),
  badHost: (d) =>
    withRun(d, {
      connectionId: undefined,
      connection: inlineConnection({ baseUrl: 'https://exfil.example.net' }),
    }),
  extraKey: (d, r) => ({ ...d, [pick(['__proto__x', 'priority', 'sudo', 'constructor'], r)]: 1 }),
  unknownType: (d, r) => ({ ...d, type: pick(['delete', 'exec', 'RUN', ''], r) }),
  bothConnections: (d) => withRun(d, { connection: inlineConnection() }),
  expired: (d) => ({ ...d, issuedAt: '2020-01-01T00:00:00Z', expiresAt: '2020-01-01T00:10:00Z' }),
  badDate: (d, r) => ({
    ...d,
    issuedAt: pick(['yesterday', '2025-13-45T99:00:00Z', '1717171717', 'NaN'], r),
  }),
  deepNesting: (d) => {
    let deep: unknown = 1;
    for (let level = 0; level < 200; level += 1) {
      deep = [deep];
    }
    return withRun(d, { params: { deep } });
  },
};

/** Junk that is not an instruction at all (no usable id: nothing to acknowledge). */
function junk(random: () => number): unknown {
  return pick<unknown>(
    [
      42,
      'run everything',
      null,
      true,
      [],
      [1, 2, 3],
      { type: 'run' },
      { id: 17 },
      { id: null, type: 'cancel' },
      { nested: { a: [HUGE.slice(0, 1000)] } },
    ],
    random,
  );
}

/** What {@link malformedInstructions} produced. */
export interface MalformedSet {
  /** Everything to issue, in order. */
  readonly items: unknown[];
  /** Each broken item: its id (undefined for junk) and how it was broken. */
  readonly malformed: { id: string | undefined; kind: string }[];
  /** Ids of the valid instructions interleaved. */
  readonly valid: string[];
}

/** `count` instructions, seeded, against a connection id the agent knows. */
export function malformedInstructions(options: {
  readonly count: number;
  readonly seed: number;
  readonly connectionId: string;
}): MalformedSet {
  const random = mulberry32(options.seed);
  const set: MalformedSet = { items: [], malformed: [], valid: [] };
  const kinds = Object.keys(MUTATIONS);
  for (let index = 0; index < options.count; index += 1) {
    if (index % 50 === 0) {
      const good = runDraft(
        { runId: `run-good-${index}`, connectionId: options.connectionId },
        { id: `good-${index}` },
      );
      set.valid.push(good['id'] as string);
      set.items.push(good);
    }
    if (random() < 0.1) {
      set.malformed.push({ id: undefined, kind: 'junk' });
      set.items.push(junk(random));
      continue;
    }
    const kind = pick(kinds, random);
    const base = runDraft(
      { runId: `run-bad-${index}`, connectionId: options.connectionId },
      { id: `bad-${index}` },
    );
    set.malformed.push({ id: `bad-${index}`, kind });
    set.items.push(MUTATIONS[kind]?.(base, random));
  }
  return set;
}

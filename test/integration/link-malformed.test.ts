import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AGENT_ID,
  inlineConnection,
  protocolProblems,
  startLinkHarness,
} from '../helpers/link-harness.ts';
import type { LinkHarness } from '../helpers/link-harness.ts';
import { ERROR_CODES } from '../../agent/plugin-api/index.ts';
import { runDraft } from '../fakes/control-plane/signing.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { mulberry32 } from '../helpers/random.ts';

type Draft = Record<string, unknown>;
type Mutation = (base: Draft, random: () => number) => Draft;

const HUGE = 'x'.repeat(100_000);
const runOf = (d: Draft): Draft => d['run'] as Draft;
const withRun = (d: Draft, run: Draft): Draft => ({ ...d, run: { ...runOf(d), ...run } });
const without = (d: Draft, key: string): Draft =>
  Object.fromEntries(Object.entries(d).filter(([name]) => name !== key));
const pick = <T>(items: readonly T[], random: () => number): T =>
  items[Math.floor(random() * items.length)] as T;

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

describe('the link under 1,000 malformed instructions', () => {
  let h: LinkHarness;
  const random = mulberry32(20250601);
  const malformed: { id: string | undefined; kind: string }[] = [];
  const valid: string[] = [];

  beforeAll(async () => {
    h = await startLinkHarness({ fake: { maxPerPoll: 100 } });
    const items: unknown[] = [];
    const kinds = Object.keys(MUTATIONS);
    for (let index = 0; index < 1000; index += 1) {
      if (index % 50 === 0) {
        const good = runDraft(
          { runId: `run-good-${index}`, connectionId: 'fixture-main' },
          { id: `good-${index}` },
        );
        valid.push(good['id'] as string);
        items.push(good);
      }
      if (random() < 0.1) {
        malformed.push({ id: undefined, kind: 'junk' });
        items.push(junk(random));
        continue;
      }
      const kind = pick(kinds, random);
      const base = runDraft(
        { runId: `run-bad-${index}`, connectionId: 'fixture-main' },
        { id: `bad-${index}` },
      );
      malformed.push({ id: `bad-${index}`, kind });
      items.push(MUTATIONS[kind]?.(base, random));
    }
    h.fake.issue(items, AGENT_ID);
  });

  afterAll(async () => {
    await h.close();
  });

  it('refuses every malformed instruction that has an id with a stable code', async () => {
    const ackable = malformed.filter((m) => m.id !== undefined);
    await waitFor(() => h.fake.records.acks.length >= ackable.length + valid.length, {
      timeoutMs: 60_000,
      what: 'all acks',
    });
    const codes = new Map<string, number>();
    for (const { id, kind } of ackable) {
      const acks = h.fake.records.acksOf(id ?? '');
      expect({ id, kind, acks: acks.length, accepted: acks[0]?.accepted }).toEqual({
        id,
        kind,
        acks: 1,
        accepted: false,
      });
      const code = acks[0]?.code ?? 'none';
      expect(Object.keys(ERROR_CODES)).toContain(code);
      codes.set(code, (codes.get(code) ?? 0) + 1);
    }
    expect([...codes.keys()].sort()).toEqual(
      expect.arrayContaining([
        'CONNECTION_UNKNOWN',
        'CONNECTOR_UNKNOWN',
        'INSTRUCTION_EXPIRED',
        'INSTRUCTION_INVALID',
        'JOB_INVALID',
        'POLICY_DENIED',
      ]),
    );
  });

  it('runs the valid instructions interleaved with them, and nothing else', () => {
    for (const id of valid) {
      expect(h.fake.records.acksOf(id)).toEqual([expect.objectContaining({ accepted: true })]);
    }
    expect([...h.target.runs.keys()].sort()).toEqual(valid.map((id) => `run-${id}`).sort());
  });

  it('counts junk without an id as refused and keeps answering', async () => {
    const status = h.link.status();
    expect(status.instructionsRefused).toBe(malformed.length);
    expect(status.instructionsAccepted).toBe(valid.length);
    const late = runDraft({ runId: 'run-late', connectionId: 'fixture-main' });
    h.fake.issue(late, AGENT_ID);
    await waitFor(() => h.fake.records.acksOf(late['id'] as string)[0], {
      what: 'the ack of a late instruction',
    });
    expect(h.link.status().fresh).toBe(true);
  });

  it('keeps every request it sent within the OpenAPI document', () => {
    expect(protocolProblems(h.fake)).toEqual([]);
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AGENT_ID, protocolProblems, startLinkHarness } from '../helpers/link-harness.ts';
import type { LinkHarness } from '../helpers/link-harness.ts';
import { ERROR_CODES } from '../../agent/plugin-api/index.ts';
import { runDraft } from '../fakes/control-plane/signing.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { malformedInstructions } from '../fakes/control-plane/malformed.ts';

describe('the link under 1,000 malformed instructions', () => {
  let h: LinkHarness;
  const malformed: { id: string | undefined; kind: string }[] = [];
  const valid: string[] = [];

  beforeAll(async () => {
    h = await startLinkHarness({ fake: { maxPerPoll: 100 } });
    const generated = malformedInstructions({
      count: 1000,
      seed: 20250601,
      connectionId: 'fixture-main',
    });
    malformed.push(...generated.malformed);
    valid.push(...generated.valid);
    const items = generated.items;
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

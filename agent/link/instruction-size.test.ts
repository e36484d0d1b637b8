import { describe, expect, it } from 'vitest';
import { runDraft } from '../../test/fakes/control-plane/server.ts';
import { MAX_INSTRUCTION_BYTES, jsonExceeds } from './instruction-size.ts';
import { parseInstruction } from './instruction.ts';

describe('the instruction size bound', () => {
  it('agrees with JSON.stringify on either side of the bound', () => {
    const value = { id: 'x', run: { a: [1, 2, 'abc', null, true], b: { c: 'é' } } };
    const length = JSON.stringify(value).length;
    expect(jsonExceeds(value, length)).toBe(false);
    expect(jsonExceeds(value, length - 1)).toBe(true);
  });

  it('refuses a 10 MB instruction and one nested 10,000 deep with INSTRUCTION_INVALID, naming its id', () => {
    const huge = runDraft({ runId: 'r1', connectionId: 'fx', params: { pad: 'x'.repeat(10e6) } });
    expect(() => parseInstruction({ ...huge, id: 'ins-huge' })).toThrow(
      expect.objectContaining({
        code: 'INSTRUCTION_INVALID',
        message: expect.stringMatching(/ins-huge.*1 MiB/s) as unknown,
      }),
    );
    const deep: unknown = JSON.parse(
      `{"id":"ins-deep","x":${'['.repeat(10_000)}${']'.repeat(10_000)}}`,
    );
    expect(() => parseInstruction(deep)).toThrow(
      expect.objectContaining({ code: 'INSTRUCTION_INVALID' }),
    );
    expect(jsonExceeds(deep, MAX_INSTRUCTION_BYTES)).toBe(false);
  });

  it('stops at the bound without walking a huge array', () => {
    expect(jsonExceeds(new Array(5_000_000).fill(0), MAX_INSTRUCTION_BYTES)).toBe(true);
  });
});

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseInstruction } from '../../../agent/link/instruction.ts';
import { verifyInstructionSignature } from '../../../agent/link/signature.ts';
import { InstructionSigner, draft, runDraft } from '../../fakes/control-plane/signing.ts';
import { depth, jsonValue, nested, params, parsesOrCoded } from './harness.ts';

const NOW = Date.parse('2026-06-01T12:00:00Z');
const signer = new InstructionSigner();
const SIGNATURE_CODES = [
  'INSTRUCTION_UNSIGNED',
  'INSTRUCTION_SIGNATURE_INVALID',
  'INSTRUCTION_INVALID',
] as const;

const instructionId = fc.stringMatching(/^[A-Za-z0-9._:-]{1,40}$/);
const name = fc.stringMatching(/^[a-z][a-z0-9-]{0,20}$/);

/** Instructions that parse: a run of a local connection with arbitrary JSON params. */
const validRun = fc
  .record({
    id: instructionId,
    runId: name,
    connectionId: name,
    params: fc.dictionary(name, jsonValue, { maxKeys: 5 }),
  })
  .map(({ id, runId, connectionId, params: runParams }) =>
    runDraft({ runId, connectionId, params: runParams }, { id, now: NOW }),
  );

/** An instruction with one member replaced by anything, at any key path. */
const mutated = fc
  .tuple(
    validRun,
    fc.array(fc.oneof(name, fc.constantFrom('run', 'params', 'id', 'type', 'schedule', 'cancel')), {
      minLength: 1,
      maxLength: 4,
    }),
    jsonValue,
  )
  .map(([instruction, path, value]) => {
    const copy = structuredClone(instruction) as Record<string, unknown>;
    let node: Record<string, unknown> = copy;
    for (const key of path.slice(0, -1)) {
      const child = node[key];
      if (typeof child !== 'object' || child === null) {
        node[key] = {};
      }
      node = node[key] as Record<string, unknown>;
    }
    node[path.at(-1) ?? 'id'] = value;
    return copy;
  });

describe('control-plane instructions, over generated input', () => {
  it('parse any JSON value to an instruction or INSTRUCTION_INVALID', () => {
    fc.assert(
      fc.property(fc.oneof(jsonValue, mutated, validRun), (raw) => {
        parsesOrCoded('instruction: parse', ['INSTRUCTION_INVALID'], () => parseInstruction(raw));
      }),
      params(),
    );
  });

  it('refuse nesting at any depth with INSTRUCTION_INVALID naming the nesting', () => {
    fc.assert(
      fc.property(validRun, depth, (instruction, levels) => {
        const deep = {
          ...instruction,
          run: { ...(instruction['run'] as object), params: { p: nested(levels) } },
        };
        const outcome = parsesOrCoded('instruction: deep nesting', ['INSTRUCTION_INVALID'], () =>
          parseInstruction(deep),
        );
        if (levels > 40) {
          expect('error' in outcome && outcome.error.message).toMatch(/nests deeper/);
        }
      }),
      params(),
    );
  });

  it('verify a signed instruction, and refuse it with one member changed', () => {
    fc.assert(
      fc.property(validRun, jsonValue, (instruction, replacement) => {
        const signed = signer.sign(instruction);
        parseInstruction(signed);
        verifyInstructionSignature(signed, signer.publicKey);
        const tampered = {
          ...signed,
          run: { ...(signed['run'] as object), params: { x: replacement } },
        };
        const outcome = parsesOrCoded('signature: tampered', SIGNATURE_CODES, () => {
          verifyInstructionSignature(tampered, signer.publicKey);
        });
        expect('error' in outcome).toBe(true);
      }),
      params(),
    );
  });

  it('refuse any signature string but a valid one with a coded error', () => {
    const signature = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 300 }),
      fc
        .tuple(fc.base64String({ maxLength: 200 }), fc.base64String({ maxLength: 120 }))
        .map(([h, s]) => `${h.replace(/=+$/, '')}..${s.replace(/=+$/, '')}`),
      fc
        .tuple(jsonValue, fc.uint8Array({ maxLength: 80 }))
        .map(
          ([header, bytes]) =>
            `${Buffer.from(JSON.stringify(header)).toString('base64url')}..${Buffer.from(bytes).toString('base64url')}`,
        ),
      jsonValue,
    );
    fc.assert(
      fc.property(validRun, signature, (instruction, candidate) => {
        const outcome = parsesOrCoded('signature: verify', SIGNATURE_CODES, () => {
          verifyInstructionSignature({ ...instruction, signature: candidate }, signer.publicKey);
        });
        expect('error' in outcome).toBe(true);
      }),
      params(),
    );
  });

  it('refuse a signed instruction nested past the canonical form’s depth with a coded error', () => {
    fc.assert(
      fc.property(depth, (levels) => {
        const deep = draft(
          'run',
          { run: { runId: 'r', connectionId: 'c', params: { p: nested(levels) } } },
          { now: NOW },
        );
        parsesOrCoded('signature: deep nesting', SIGNATURE_CODES, () => {
          verifyInstructionSignature({ ...deep, signature: 'e30..AA' }, signer.publicKey);
        });
      }),
      params(),
    );
  });
});

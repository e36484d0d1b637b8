import { generateKeyPairSync, randomUUID } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { signInstruction } from '../../../agent/link/signature.ts';

/** An instruction as the fake issues it: loose, so tests can also build wrong ones. */
export type InstructionDraft = Record<string, unknown>;

/** The control plane's signing key and the ways it (mis)signs instructions. */
export class InstructionSigner {
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  /** The public key as PEM SPKI, as an operator pins it (`controlPlane.publicKey`). */
  readonly publicKeyPem: string;

  constructor() {
    const pair = generateKeyPairSync('ed25519');
    this.privateKey = pair.privateKey;
    this.publicKey = pair.publicKey;
    this.publicKeyPem = pair.publicKey.export({ type: 'spki', format: 'pem' }).toString();
  }

  /** The instruction with a valid `signature`. */
  sign(instruction: InstructionDraft): InstructionDraft {
    return { ...instruction, signature: signInstruction(instruction, this.privateKey) };
  }

  /** Signed, then one field changed afterwards (the signature no longer matches). */
  tamper(
    instruction: InstructionDraft,
    change: (copy: InstructionDraft) => void,
  ): InstructionDraft {
    const copy = structuredClone(this.sign(instruction));
    change(copy);
    return copy;
  }

  /** Signed with a key the agent does not know. */
  signWithOtherKey(instruction: InstructionDraft): InstructionDraft {
    const other = generateKeyPairSync('ed25519').privateKey;
    return { ...instruction, signature: signInstruction(instruction, other) };
  }
}

/** Options of the instruction builders. */
export interface DraftOptions {
  readonly id?: string;
  readonly now?: number;
  /** Validity window. @default 10 minutes */
  readonly ttlMs?: number;
  /** Shifts issuedAt and expiresAt, e.g. `-3_600_000` for an expired instruction. */
  readonly shiftMs?: number;
}

/** An instruction envelope around a payload: id, type, issuedAt, expiresAt. */
export function draft(
  type: string,
  payload: Record<string, unknown>,
  options: DraftOptions = {},
): InstructionDraft {
  const issuedMs = (options.now ?? Date.now()) + (options.shiftMs ?? 0);
  return {
    id: options.id ?? `ins-${randomUUID()}`,
    type,
    issuedAt: new Date(issuedMs).toISOString(),
    expiresAt: new Date(issuedMs + (options.ttlMs ?? 600_000)).toISOString(),
    ...payload,
  };
}

/** A `run` instruction. */
export function runDraft(
  run: Record<string, unknown>,
  options: DraftOptions = {},
): InstructionDraft {
  return draft('run', { run: { operation: 'extract', params: {}, ...run } }, options);
}

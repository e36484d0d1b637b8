import { createPrivateKey, createPublicKey, sign } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { InstructionSigner, runDraft } from '../../test/fakes/control-plane/signing.ts';
import { canonicalJson } from '../ledger/jcs.ts';
import {
  checkInstructionWindow,
  signInstruction,
  verifyInstructionSignature,
} from './signature.ts';

const signer = new InstructionSigner();
const NOW = Date.parse('2025-06-01T12:00:00Z');
const instruction = runDraft(
  { runId: 'run-1', connectionId: 'fixture-main', params: { limit: 3 } },
  { id: 'ins-1', now: NOW },
);

function codeOf(action: () => void): string | undefined {
  try {
    action();
    return undefined;
  } catch (error) {
    return (error as { code?: string }).code;
  }
}

/** A detached JWS with the given header, validly signed by the fake's key. */
function withHeader(header: Record<string, unknown>): Record<string, unknown> {
  const encoded = Buffer.from(JSON.stringify(header)).toString('base64url');
  const payload = Buffer.from(canonicalJson(instruction)).toString('base64url');
  const signature = sign(null, Buffer.from(`${encoded}.${payload}`), signer.privateKey);
  return { ...instruction, signature: `${encoded}..${signature.toString('base64url')}` };
}

describe('instruction signatures', () => {
  it('accepts an instruction signed by the pinned key', () => {
    expect(
      codeOf(() => {
        verifyInstructionSignature(signer.sign(instruction), signer.publicKey);
      }),
    ).toBeUndefined();
  });

  it('produces a compact JWS with detached payload and an EdDSA header', () => {
    const signature = signer.sign(instruction)['signature'] as string;
    const [header, payload, value] = signature.split('.');
    expect(payload).toBe('');
    expect(JSON.parse(Buffer.from(header ?? '', 'base64url').toString())).toEqual({ alg: 'EdDSA' });
    expect(Buffer.from(value ?? '', 'base64url')).toHaveLength(64);
  });

  it('verifies whatever the member order, since it signs the canonical form', () => {
    const signed = signer.sign(instruction);
    const reordered = Object.fromEntries(Object.entries(signed).reverse());
    expect(
      codeOf(() => {
        verifyInstructionSignature(reordered, signer.publicKey);
      }),
    ).toBeUndefined();
  });

  it('refuses a payload with one field changed after signing', () => {
    const tampered = signer.tamper(instruction, (copy) => {
      (copy['run'] as Record<string, unknown>)['connectionId'] = 'other-connection';
    });
    expect(
      codeOf(() => {
        verifyInstructionSignature(tampered, signer.publicKey);
      }),
    ).toBe('INSTRUCTION_SIGNATURE_INVALID');
  });

  it('refuses a signature made with another key', () => {
    const signed = signer.signWithOtherKey(instruction);
    expect(
      codeOf(() => {
        verifyInstructionSignature(signed, signer.publicKey);
      }),
    ).toBe('INSTRUCTION_SIGNATURE_INVALID');
  });

  it('refuses an unsigned instruction while a key is pinned', () => {
    expect(
      codeOf(() => {
        verifyInstructionSignature(instruction, signer.publicKey);
      }),
    ).toBe('INSTRUCTION_UNSIGNED');
  });

  it('accepts an unsigned instruction when no key is pinned', () => {
    expect(
      codeOf(() => {
        verifyInstructionSignature(instruction, undefined);
      }),
    ).toBeUndefined();
  });

  it.each([
    ['another alg', { alg: 'ES256' }],
    ['alg none', { alg: 'none' }],
    ['b64 false (RFC 7797)', { alg: 'EdDSA', b64: false, crit: ['b64'] }],
    ['a crit member', { alg: 'EdDSA', crit: ['exp'] }],
  ])('refuses a header with %s even when the signature is valid', (_name, header) => {
    expect(
      codeOf(() => {
        verifyInstructionSignature(withHeader(header), signer.publicKey);
      }),
    ).toBe('INSTRUCTION_SIGNATURE_INVALID');
  });

  it('accepts extra informational header members such as kid', () => {
    const signed = {
      ...instruction,
      signature: signInstruction(instruction, signer.privateKey, { kid: 'cp-2025' }),
    };
    expect(
      codeOf(() => {
        verifyInstructionSignature(signed, signer.publicKey);
      }),
    ).toBeUndefined();
  });

  it('refuses a JWS that carries its payload instead of detaching it', () => {
    const [header, , value] = (signer.sign(instruction)['signature'] as string).split('.');
    const attached = `${header}.${Buffer.from(canonicalJson(instruction)).toString('base64url')}.${value}`;
    expect(
      codeOf(() => {
        verifyInstructionSignature({ ...instruction, signature: attached }, signer.publicKey);
      }),
    ).toBe('INSTRUCTION_SIGNATURE_INVALID');
  });

  it.each([
    ['padding', (s: string) => `${s}==`],
    ['standard base64 characters', (s: string) => s.replace(/-/g, '+').replace(/_/g, '/') + '+'],
    ['a truncated signature', (s: string) => s.slice(0, -4)],
    ['no separators', (s: string) => s.replaceAll('.', '')],
  ])('refuses a signature with %s', (_name, mangle) => {
    const signature = mangle(signer.sign(instruction)['signature'] as string);
    expect(
      codeOf(() => {
        verifyInstructionSignature({ ...instruction, signature }, signer.publicKey);
      }),
    ).toBe('INSTRUCTION_SIGNATURE_INVALID');
  });
});

describe('instruction validity window', () => {
  const window = { issuedAt: '2025-06-01T12:00:00Z', expiresAt: '2025-06-01T12:10:00Z' };

  it('accepts an instruction inside its window', () => {
    expect(
      codeOf(() => {
        checkInstructionWindow(window, NOW + 60_000, 0);
      }),
    ).toBeUndefined();
  });

  it('refuses an expired instruction', () => {
    expect(
      codeOf(() => {
        checkInstructionWindow(window, NOW + 11 * 60_000, 0);
      }),
    ).toBe('INSTRUCTION_EXPIRED');
  });

  it('tolerates expiry within the allowed clock skew', () => {
    expect(
      codeOf(() => {
        checkInstructionWindow(window, NOW + 11 * 60_000, 120_000);
      }),
    ).toBeUndefined();
  });

  it('refuses an instruction issued further in the future than the skew allows', () => {
    expect(
      codeOf(() => {
        checkInstructionWindow(window, NOW - 10 * 60_000, 300_000);
      }),
    ).toBe('INSTRUCTION_EXPIRED');
    expect(
      codeOf(() => {
        checkInstructionWindow(window, NOW - 4 * 60_000, 300_000);
      }),
    ).toBeUndefined();
  });
});

describe('the worked example of docs/protocol/control-plane.md', () => {
  // RFC 8032 test vector 1: a published key, for documentation only.
  const seed = Buffer.from(
    '9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60',
    'hex',
  );
  const privateKey = createPrivateKey({
    key: Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), seed]),
    format: 'der',
    type: 'pkcs8',
  });
  const example = {
    id: 'ins-01J9ZK3M6Q',
    type: 'run',
    issuedAt: '2025-06-01T12:00:00Z',
    expiresAt: '2025-06-01T12:10:00Z',
    run: {
      runId: 'run-2025-06-01-cyera',
      connectionId: 'cyera-prod',
      operation: 'extract',
      params: { datastoreUids: ['0198a421-92f3-4e89-bb2a-6d5b1229c1ef'] },
    },
  };
  const doc = readFileSync(
    new URL('../../docs/protocol/control-plane.md', import.meta.url),
    'utf8',
  );

  it('shows the canonical form, the public key and the signature this code computes', () => {
    const signature = signInstruction(example, privateKey);
    const publicPem = createPublicKey(privateKey)
      .export({ type: 'spki', format: 'pem' })
      .toString();
    expect(doc).toContain(canonicalJson(example));
    expect(doc).toContain(publicPem.trim());
    expect(doc).toContain(signature);
    expect(doc).toContain(Buffer.from(canonicalJson(example)).toString('base64url'));
    expect(
      codeOf(() => {
        verifyInstructionSignature({ ...example, signature }, createPublicKey(privateKey));
      }),
    ).toBeUndefined();
  });
});

import { sign, verify } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { PerimeterError } from '../plugin-api/index.ts';
import { canonicalJson } from '../ledger/jcs.ts';

/** The one algorithm accepted: Ed25519 (RFC 8037). */
export const SIGNATURE_ALG = 'EdDSA';

const BASE64URL = /^[A-Za-z0-9_-]*$/;
const ED25519_SIGNATURE_BYTES = 64;
const MAX_HEADER_BYTES = 1024;

/**
 * Signs an instruction: a compact JWS with detached payload (RFC 7515 appendix F),
 * `<b64url(header)>..<b64url(signature)>`, over the RFC 8785 canonical JSON of the instruction
 * without its `signature` member. For the control-plane fake and tests; a real control plane
 * does the same with its own tooling. `header` adds members (e.g. `kid`) to `{alg: 'EdDSA'}`.
 */
export function signInstruction(
  instruction: Readonly<Record<string, unknown>>,
  privateKey: KeyObject,
  header: Readonly<Record<string, unknown>> = {},
): string {
  const encodedHeader = base64url(JSON.stringify({ alg: SIGNATURE_ALG, ...header }));
  const signature = sign(null, signingInput(encodedHeader, instruction), privateKey);
  return `${encodedHeader}..${signature.toString('base64url')}`;
}

/**
 * Verifies an instruction's signature against the pinned key. Without a pinned key, nothing is
 * checked (a signature that is present is then ignored). With one: no `signature` →
 * INSTRUCTION_UNSIGNED; anything else that is not a valid EdDSA detached JWS over this exact
 * instruction (another alg, `crit`, `b64`, an attached payload, a bad encoding, a signature by
 * another key, one changed member) → INSTRUCTION_SIGNATURE_INVALID.
 */
export function verifyInstructionSignature(
  instruction: Readonly<Record<string, unknown>>,
  publicKey: KeyObject | undefined,
): void {
  if (publicKey === undefined) {
    return;
  }
  const signature = instruction['signature'];
  if (signature === undefined) {
    throw new PerimeterError(
      'INSTRUCTION_UNSIGNED',
      'The instruction has no signature, but a public key is pinned (controlPlane.publicKey): every instruction must be signed.',
    );
  }
  if (typeof signature !== 'string') {
    throw invalid('the signature is not a string');
  }
  const parts = signature.split('.');
  const [encodedHeader = '', payload, encodedSignature = ''] = parts;
  if (parts.length !== 3 || payload !== '') {
    throw invalid('it is not a compact JWS with detached payload (<header>..<signature>)');
  }
  checkHeader(encodedHeader);
  const signatureBytes = decodeBase64url(encodedSignature, 'signature');
  if (signatureBytes.length !== ED25519_SIGNATURE_BYTES) {
    throw invalid(
      `the signature is ${signatureBytes.length} bytes, not ${ED25519_SIGNATURE_BYTES}`,
    );
  }
  const valid = verify(null, signingInput(encodedHeader, instruction), publicKey, signatureBytes);
  if (!valid) {
    throw invalid('it does not verify against the pinned key (tampered, or signed by another key)');
  }
}

/**
 * Checks the instruction's validity window with a clock-skew allowance: refused once
 * `expiresAt + skew` has passed, or when `issuedAt - skew` is still ahead (INSTRUCTION_EXPIRED).
 */
export function checkInstructionWindow(
  window: { readonly issuedAt: string; readonly expiresAt: string },
  nowMs: number,
  maxClockSkewMs: number,
): void {
  const expiresAtMs = Date.parse(window.expiresAt);
  const issuedAtMs = Date.parse(window.issuedAt);
  if (nowMs > expiresAtMs + maxClockSkewMs) {
    throw new PerimeterError(
      'INSTRUCTION_EXPIRED',
      `The instruction expired ${Math.round((nowMs - expiresAtMs) / 1000)} s ago (expiresAt; clock skew allowed: ${maxClockSkewMs / 1000} s).`,
      { context: { expiredForMs: nowMs - expiresAtMs } },
    );
  }
  if (issuedAtMs - maxClockSkewMs > nowMs) {
    throw new PerimeterError(
      'INSTRUCTION_EXPIRED',
      `The instruction is issued ${Math.round((issuedAtMs - nowMs) / 1000)} s in the future (issuedAt; clock skew allowed: ${maxClockSkewMs / 1000} s). Check both clocks.`,
      { context: { aheadByMs: issuedAtMs - nowMs } },
    );
  }
}

/** The JWS signing input: ASCII(b64url(header) || '.' || b64url(JCS(instruction − signature))). */
function signingInput(
  encodedHeader: string,
  instruction: Readonly<Record<string, unknown>>,
): Buffer {
  const payload = canonicalJson({ ...instruction, signature: undefined });
  return Buffer.from(`${encodedHeader}.${base64url(payload)}`, 'ascii');
}

function checkHeader(encodedHeader: string): void {
  if (encodedHeader.length > MAX_HEADER_BYTES) {
    throw invalid('the JWS header is too long');
  }
  let header: unknown;
  try {
    header = JSON.parse(decodeBase64url(encodedHeader, 'header').toString('utf8'));
  } catch (error) {
    throw error instanceof PerimeterError ? error : invalid('the JWS header is not JSON');
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) {
    throw invalid('the JWS header is not a JSON object');
  }
  const members = header as Record<string, unknown>;
  if (members['alg'] !== SIGNATURE_ALG) {
    throw invalid(`the JWS header's alg is not ${SIGNATURE_ALG}`);
  }
  // No extension is understood: `crit` must be refused (RFC 7515 §4.1.11), and `b64`
  // (RFC 7797) would change what the signature covers.
  for (const name of ['crit', 'b64']) {
    if (name in members) {
      throw invalid(`the JWS header carries "${name}", which this agent does not accept`);
    }
  }
}

function decodeBase64url(text: string, what: string): Buffer {
  // Node's decoder skips characters it does not know and ignores stray bits; the round trip
  // keeps exactly one accepted spelling per value.
  const bytes = Buffer.from(text, 'base64url');
  if (!BASE64URL.test(text) || bytes.toString('base64url') !== text) {
    throw invalid(`the JWS ${what} is not unpadded base64url`);
  }
  return bytes;
}

function base64url(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64url');
}

function invalid(problem: string): PerimeterError {
  return new PerimeterError(
    'INSTRUCTION_SIGNATURE_INVALID',
    `The instruction signature was refused: ${problem}.`,
  );
}

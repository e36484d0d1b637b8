import { randomBytes } from 'node:crypto';

/**
 * A canary secret: a value that must never be seen outside the process's memory. Tests place
 * it in credentials, then scan everything they captured for it in every encoding it could leak.
 */
export function makeCanary(label = 'canary'): string {
  return `${label}-${randomBytes(12).toString('hex')}`;
}

/**
 * The forms a leaked canary could take, written here independently of the agent's redactor so
 * that the scan does not share its blind spots: raw; JSON-escaped; percent-encoded as
 * `encodeURIComponent` writes it and with every byte escaped, in upper and lower case; hex in
 * either case; base64 and base64url whole and at each of the three byte alignments inside a
 * longer encoded text (only the characters that depend on the canary's bytes alone).
 */
export function canaryForms(canary: string): string[] {
  const bytes = Buffer.from(canary);
  const hex = bytes.toString('hex');
  const everyByte = hex.replace(/../g, '%$&');
  const forms = [
    canary,
    JSON.stringify(canary).slice(1, -1),
    encodeURIComponent(canary),
    encodeURIComponent(canary).replace(/%[0-9A-F]{2}/g, (escape) => escape.toLowerCase()),
    everyByte,
    everyByte.toUpperCase(),
    hex,
    hex.toUpperCase(),
    bytes.toString('base64').replace(/=+$/, ''),
    bytes.toString('base64url'),
    ...[0, 1, 2].flatMap((offset) => alignedBase64(bytes, offset)),
  ];
  return [...new Set(forms)];
}

/** The base64 and base64url characters of `bytes` placed `offset` bytes into a 3-byte group. */
function alignedBase64(bytes: Buffer, offset: number): string[] {
  const encoded = Buffer.concat([Buffer.alloc(offset), bytes]).toString('base64');
  const first = Math.ceil((8 * offset) / 6);
  const end = Math.floor((8 * (offset + bytes.length)) / 6);
  const run = encoded.slice(first, end);
  return [run, run.replaceAll('+', '-').replaceAll('/', '_')];
}

/** Returns the names of the captured texts that contain the canary in any form. */
export function findCanary(canary: string, captured: Record<string, string | Buffer>): string[] {
  const forms = canaryForms(canary);
  return Object.entries(captured)
    .filter(([, text]) => {
      const haystack = typeof text === 'string' ? text : text.toString('latin1');
      return forms.some((form) => haystack.includes(form));
    })
    .map(([name]) => name);
}

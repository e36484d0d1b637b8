import { randomBytes } from 'node:crypto';

/**
 * A canary secret: a value that must never be seen outside the process's memory. Tests place
 * it in credentials, then scan everything they captured for it in every encoding it could leak.
 */
export function makeCanary(label = 'canary'): string {
  return `${label}-${randomBytes(12).toString('hex')}`;
}

/** The forms a leaked canary could take: raw, JSON-escaped, URL-encoded, base64 and base64url. */
export function canaryForms(canary: string): string[] {
  const bytes = Buffer.from(canary);
  return [
    canary,
    JSON.stringify(canary).slice(1, -1),
    encodeURIComponent(canary),
    bytes.toString('base64').replace(/=+$/, ''),
    bytes.toString('base64url'),
  ];
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

import { base64Runs, decodeEscapes, decodedKey } from './encoded-forms.ts';

/** An escape token any encoder may write a character of a secret with. */
const ANY_ESCAPE = /%[0-9a-fA-F]{2}|\\u[0-9a-fA-F]{4}|\\["\\/bfnrt]|\+/;

/**
 * A secret too long to compile into a pattern (see MAX_PATTERN_SECRET_LENGTH), looked for as
 * fixed strings: raw, JSON-escaped once and twice, base64 and base64url whole and at each
 * alignment, hex in either case. Its escaped forms mix freely (`%41` here, `\u0042` there) and
 * cannot be listed; a line that, its escapes decoded, holds the secret is censored whole.
 */
export class LongSecret {
  readonly #fixed: readonly string[];
  readonly #hex: string;
  /** What the decoded escapes of a line hold when the secret is in it escaped. */
  readonly #probe: string | undefined;

  constructor(value: string) {
    const bytes = Buffer.from(value, 'utf8');
    const json = JSON.stringify(value).slice(1, -1);
    const fixed = new Set([
      value,
      json,
      JSON.stringify(json).slice(1, -1),
      bytes.toString('base64'),
      bytes.toString('base64url'),
      ...[0, 1, 2].flatMap((offset) => base64Runs(bytes, offset)),
    ]);
    this.#fixed = [...fixed].sort((a, b) => b.length - a.length);
    this.#hex = bytes.toString('hex');
    this.#probe = decodedKey(value) ?? longestPlainRun(value);
  }

  get length(): number {
    return this.#fixed[0]?.length ?? 0;
  }

  redact(text: string, censor: string): string {
    let result = text;
    for (const fixed of this.#fixed) {
      if (result.includes(fixed)) {
        result = result.split(fixed).join(censor);
      }
    }
    result = replaceCaseless(result, this.#hex, censor);
    if (
      ANY_ESCAPE.test(result) &&
      (this.#probe === undefined || decodeEscapes(result).includes(this.#probe))
    ) {
      return censor;
    }
    return result;
  }
}

/** Replaces `hex` (lower case) in `text` whatever the case of its letters. */
function replaceCaseless(text: string, hex: string, censor: string): string {
  // Lowering only A–F keeps every index where it was.
  const lowered = text.replace(/[A-F]/g, (letter) => letter.toLowerCase());
  let index = lowered.indexOf(hex);
  if (index === -1) {
    return text;
  }
  let result = '';
  let from = 0;
  while (index !== -1) {
    result += text.slice(from, index) + censor;
    from = index + hex.length;
    index = lowered.indexOf(hex, from);
  }
  return result + text.slice(from);
}

/**
 * The longest part of a value free of what reads as an escape (`\`, `%`), spaces as `+`: what
 * decodeEscapes leaves of it in any escaped form. Undefined when too short to be telling (then
 * any line with an escape token is censored while the value is held).
 */
function longestPlainRun(value: string): string | undefined {
  const longest = value
    .split(/[\\%]/)
    .reduce((best, run) => (run.length > best.length ? run : best), '');
  return longest.length >= 16 ? longest.replaceAll(' ', '+') : undefined;
}

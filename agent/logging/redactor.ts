import { decodeEscapes, decodedKey, escapeRegExp, secretForms } from './encoded-forms.ts';
import type { SecretForms } from './encoded-forms.ts';

const CENSOR = '[redacted]';

/**
 * Shortest value redacted by value. Shorter ones would mask ordinary words and numbers all over
 * the logs (a known complaint about CI runners); they are still covered by the SecretValue
 * wrapper and the key-path layer.
 */
export const MIN_REDACTED_LENGTH = 6;

/** The compiled patterns of every registered secret. */
interface Compiled {
  /** The fixed forms: enough for a line without escape tokens. */
  readonly literal: RegExp;
  /** Whether a line holds an escape token a registered secret may be written with. */
  readonly escaped: RegExp;
  /** Whether a line, its escapes decoded, may hold a secret; undefined: always look. */
  readonly decoded: RegExp | undefined;
  /** Every form, escaped ones too. */
  readonly full: RegExp;
}

/**
 * Value-based redaction: the last layer, applied to every finished log line. It knows every
 * secret the resolver revealed and every auth header the HTTP client built, in every form they
 * take on the way out, inside larger encoded data too (see secretForms): raw, JSON-escaped,
 * percent- and form-encoded, base64 and base64url at each alignment, hex. The secrets share one
 * regular expression, compiled when the set changes; most lines hold no escape token at all and
 * are scanned for the fixed forms only, which is several times faster.
 */
export class Redactor {
  readonly #forms = new Map<string, SecretForms>();
  /** The compiled patterns, rebuilt after a new secret. */
  #compiled: Compiled | undefined;

  /** Registers a secret value. Returns false when it is too short to be redacted by value. */
  add(value: string): boolean {
    if (value.length < MIN_REDACTED_LENGTH) {
      return false;
    }
    if (!this.#forms.has(value)) {
      this.#forms.set(value, secretForms(value));
      this.#compiled = undefined;
    }
    return true;
  }

  /** Number of distinct secrets held (for tests and /metrics). */
  get size(): number {
    return this.#forms.size;
  }

  /** Replaces every registered secret, in any of its forms, in `text` by `[redacted]`. */
  redact(text: string): string {
    if (this.#forms.size === 0) {
      return text;
    }
    this.#compiled ??= compile(this.#forms);
    const { literal, escaped, decoded, full } = this.#compiled;
    const mayBeEscaped =
      escaped.test(text) && (decoded === undefined || decoded.test(decodeEscapes(text)));
    return text.replace(mayBeEscaped ? full : literal, CENSOR);
  }
}

function compile(secrets: ReadonlyMap<string, SecretForms>): Compiled {
  const forms = [...secrets.values()];
  // Longest first, so that `user:secret` is replaced whole before `secret` inside it (and, as
  // measured, the engine scans a length-sorted alternation several times faster).
  const byLength = (sources: string[]): string[] =>
    [...new Set(sources)].sort((a, b) => b.length - a.length);
  const literal = byLength(forms.flatMap((f) => f.literal));
  const escaped = byLength(forms.map((f) => f.escaped));
  const tokens = new Set([
    '%[0-9a-fA-F]{2}',
    '\\\\u[0-9a-fA-F]{4}',
    ...forms.flatMap((f) => f.tokens),
  ]);
  const keys = [...secrets.keys()].map(decodedKey);
  const decoded = keys.every((key) => key !== undefined)
    ? new RegExp(byLength(keys.map(escapeRegExp)).join('|'))
    : undefined;
  return {
    literal: new RegExp(literal.join('|'), 'g'),
    escaped: new RegExp([...tokens].join('|')),
    decoded,
    full: new RegExp([firstCharacterGuard(forms, escaped), ...literal].join('|'), 'g'),
  };
}

/**
 * The escaped forms behind one look-ahead on their possible first characters: without it the
 * engine tries every secret at every position (measured: several times slower).
 */
function firstCharacterGuard(forms: readonly SecretForms[], escaped: readonly string[]): string {
  const firsts = new Set(forms.map((f) => f.firstCharacter.replace(/[\\\]^-]/g, '\\$&')));
  return `(?=[${[...firsts].join('')}\\\\%+])(?:${escaped.join('|')})`;
}

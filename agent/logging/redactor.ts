const CENSOR = '[redacted]';

/**
 * Shortest value redacted by value. Shorter ones would mask ordinary words and numbers all over
 * the logs (a known complaint about CI runners); they are still covered by the SecretValue
 * wrapper and the key-path layer.
 */
export const MIN_REDACTED_LENGTH = 6;

/**
 * Value-based redaction: the last layer, applied to every finished log line. It knows every
 * secret the resolver revealed and every auth header the HTTP client built, in the forms they
 * take on the way out (raw, JSON-escaped, URL-encoded, base64 and base64url).
 */
export class Redactor {
  readonly #forms = new Set<string>();
  #pattern: RegExp | undefined;

  /** Registers a secret value. Returns false when it is too short to be redacted by value. */
  add(value: string): boolean {
    if (value.length < MIN_REDACTED_LENGTH) {
      return false;
    }
    const before = this.#forms.size;
    for (const form of encodedForms(value)) {
      if (form.length >= MIN_REDACTED_LENGTH) {
        this.#forms.add(form);
      }
    }
    if (this.#forms.size !== before) {
      this.#pattern = undefined;
    }
    return true;
  }

  /** Number of distinct forms held (for tests and /metrics). */
  get size(): number {
    return this.#forms.size;
  }

  /** Replaces every registered form in `text` by `[redacted]`. */
  redact(text: string): string {
    if (this.#forms.size === 0) {
      return text;
    }
    this.#pattern ??= buildPattern(this.#forms);
    return text.replace(this.#pattern, CENSOR);
  }
}

function encodedForms(value: string): string[] {
  const bytes = Buffer.from(value, 'utf8');
  return [
    value,
    JSON.stringify(value).slice(1, -1),
    // A value inside a JSON string that is itself JSON-encoded (a JSON log of a JSON body).
    JSON.stringify(JSON.stringify(value).slice(1, -1)).slice(1, -1),
    encodeURIComponent(value),
    bytes.toString('base64'),
    bytes.toString('base64').replace(/=+$/, ''),
    bytes.toString('base64url'),
  ];
}

function buildPattern(forms: ReadonlySet<string>): RegExp {
  // Longest first, so a value is replaced whole before any shorter form inside it.
  const sorted = [...forms].sort((a, b) => b.length - a.length);
  return new RegExp(sorted.map(escapeRegExp).join('|'), 'g');
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

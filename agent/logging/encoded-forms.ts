/** The shapes a secret takes inside longer encoded texts, as regular-expression sources. */
export interface SecretForms {
  /** Fixed strings (raw, base64 and base64url at each alignment, hex in either case). */
  readonly literal: readonly string[];
  /** Every character in any of its escaped forms (JSON, `\u`, percent, `+`), mixed freely. */
  readonly escaped: string;
  /** The escape tokens `escaped` may hold besides `\uXXXX` and `%XX`, e.g. `\"` or `+`. */
  readonly tokens: readonly string[];
  /** The first UTF-16 unit of the raw secret. */
  readonly firstCharacter: string;
}

/**
 * The forms of a secret. Each depends only on the secret, never on the text around it, so that
 * a secret inside larger data (`user:secret` in HTTP Basic, a token in a JSON body in a URL) is
 * found too.
 */
export function secretForms(value: string): SecretForms {
  const bytes = Buffer.from(value, 'utf8');
  const json = JSON.stringify(value).slice(1, -1);
  const literals = [
    value,
    // Whole encodings first: at the same position the longest match wins.
    bytes.toString('base64'),
    bytes.toString('base64url'),
    // A value inside a JSON string that is itself JSON-encoded (a JSON log of a JSON body).
    JSON.stringify(json).slice(1, -1),
    ...[0, 1, 2].flatMap((offset) => base64Runs(bytes, offset)),
  ];
  // Code points, not graphemes: encoders escape each code point on its own.
  const characters = Array.from(value, characterForms);
  return {
    literal: [...new Set(literals)].map(escapeRegExp).concat(caseless(bytes.toString('hex'))),
    escaped: characters.map(({ source }) => source).join(''),
    tokens: [...new Set(characters.flatMap(({ tokens }) => tokens))],
    firstCharacter: value.charAt(0),
  };
}

/**
 * The base64 and base64url characters of `bytes` when they start `offset` (0–2) bytes into a
 * 3-byte group: only the characters whose 6 bits all come from `bytes`, which are the same
 * whatever surrounds them. The 1–3 characters at each end that mix in neighbouring bits stay.
 */
export function base64Runs(bytes: Buffer, offset: number): string[] {
  const encoded = Buffer.concat([Buffer.alloc(offset), bytes]).toString('base64');
  const run = encoded.slice(
    Math.ceil((8 * offset) / 6),
    Math.floor((8 * (offset + bytes.length)) / 6),
  );
  return [run, run.replaceAll('+', '-').replaceAll('/', '_')];
}

/**
 * One character in each of its forms: raw; JSON (`\"`, `\n`, `\/`, `\u00e9` or `\u00E9`, even
 * `\u0041` for `A`, as escape-everything encoders write); percent-encoded UTF-8 bytes in either
 * case (`%2F`, `%2f`); `+` or `%20` for a space (encodeURIComponent, encodeURI,
 * application/x-www-form-urlencoded).
 */
function characterForms(character: string): { source: string; tokens: string[] } {
  const tokens: string[] = [];
  const short = JSON.stringify(character).slice(1, -1);
  if (short !== character && !short.startsWith('\\u')) {
    tokens.push(escapeRegExp(short));
  }
  if (character === '/') {
    tokens.push('\\\\/');
  }
  if (character === ' ') {
    tokens.push('\\+');
  }
  const units = Array.from({ length: character.length }, (_, index) =>
    character.charCodeAt(index).toString(16).padStart(4, '0'),
  );
  const utf8 = [...Buffer.from(character, 'utf8')].map((byte) =>
    byte.toString(16).padStart(2, '0'),
  );
  const forms = [
    escapeRegExp(character),
    ...tokens,
    units.map((unit) => `\\\\u${caseless(unit)}`).join(''),
    utf8.map((byte) => `%${caseless(byte)}`).join(''),
  ];
  return { source: `(?:${forms.join('|')})`, tokens };
}

/** Hex digits matched in either case: `2f` → `2[fF]`. */
function caseless(hex: string): string {
  return hex.replace(/[a-f]/g, (letter) => `[${letter}${letter.toUpperCase()}]`);
}

/** Escapes `text` for a regular expression without the `u` flag. */
export function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

const ESCAPE_TOKEN = /(?:%[0-9a-fA-F]{2})+|\\u[0-9a-fA-F]{4}|\\["\\/bfnrt]/g;
const JSON_SHORT: Readonly<Record<string, string>> = {
  '"': '"',
  '\\': '\\',
  '/': '/',
  b: '\b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
};

/**
 * Decodes every escape token of `text` at once (percent runs as UTF-8, `\uXXXX`, JSON short
 * escapes) and writes spaces as `+`, so that any escaped form of a secret reads as its
 * {@link decodedKey}. A quick test for whether the escaped forms need to be looked for at all.
 */
export function decodeEscapes(text: string): string {
  return text
    .replace(ESCAPE_TOKEN, (token) => {
      if (token.startsWith('%')) {
        return Buffer.from(token.replaceAll('%', ''), 'hex').toString('utf8');
      }
      return token.startsWith('\\u')
        ? String.fromCharCode(Number.parseInt(token.slice(2), 16))
        : (JSON_SHORT[token.slice(1)] ?? token);
    })
    .replaceAll(' ', '+');
}

/**
 * What decodeEscapes makes of a secret's escaped forms, or undefined when the secret itself
 * holds something that reads as an escape (`\`, `%41`): then its forms are always looked for.
 */
export function decodedKey(value: string): string | undefined {
  return /\\|%[0-9a-fA-F]{2}/.test(value) ? undefined : value.replaceAll(' ', '+');
}

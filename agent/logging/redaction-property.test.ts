import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MIN_REDACTED_LENGTH, Redactor } from './redactor.ts';

/**
 * "Present" means decodable: a secret is present in a text when decoding the text the way an
 * encoding is read gives back a byte string that contains the secret's UTF-8 bytes. Each decoder
 * is lenient (it reads every run it can, at every alignment), so a partial redaction that still
 * lets the secret be read back fails.
 */
type Decoder = (text: string) => Buffer[];

// Node decodes base64 and hex leniently: an unpadded tail still gives its whole bytes.
const base64Decoder =
  (alphabet: RegExp, encoding: 'base64' | 'base64url'): Decoder =>
  (text) =>
    (text.match(alphabet) ?? []).flatMap((run) =>
      [0, 1, 2, 3].map((shift) => Buffer.from(run.slice(shift), encoding)),
    );

const hexDecoder: Decoder = (text) =>
  (text.match(/[0-9a-fA-F]+/g) ?? []).flatMap((run) =>
    [0, 1].map((shift) => Buffer.from(run.slice(shift), 'hex')),
  );

/** Reads %XX as a byte and (in form mode) + as a space; every other character as its UTF-8. */
const percentDecoder =
  (plusIsSpace: boolean): Decoder =>
  (text) => {
    const bytes: number[] = [];
    for (let index = 0; index < text.length;) {
      const hex = text.slice(index + 1, index + 3);
      if (text[index] === '%' && /^[0-9a-fA-F]{2}$/.test(hex)) {
        bytes.push(Number.parseInt(hex, 16));
        index += 3;
        continue;
      }
      const character = String.fromCodePoint(text.codePointAt(index) ?? 0);
      bytes.push(...Buffer.from(plusIsSpace && character === '+' ? ' ' : character, 'utf8'));
      index += character.length;
    }
    return [Buffer.from(bytes)];
  };

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

/** Reads JSON string escapes, `\uXXXX` in either case included. */
const jsonDecoder: Decoder = (text) => [
  Buffer.from(
    text.replace(
      /\\u([0-9a-fA-F]{4})|\\(["\\/bfnrt])/g,
      (_, unit: string | undefined, short: string) =>
        unit === undefined
          ? (JSON_SHORT[short] ?? '')
          : String.fromCharCode(Number.parseInt(unit, 16)),
    ),
    'utf8',
  ),
];

/** An encoder that escapes every character but ASCII letters and digits as `\uXXXX`. */
const escapeAllButAlnum = (text: string, upper: boolean): string =>
  Array.from(text)
    .map((character) =>
      /^[A-Za-z0-9]$/.test(character)
        ? character
        : Array.from({ length: character.length }, (_, index) => {
            const unit = character.charCodeAt(index).toString(16).padStart(4, '0');
            return `\\u${upper ? unit.toUpperCase() : unit}`;
          }).join(''),
    )
    .join('');

const lowerPercent = (text: string): string =>
  text.replace(/%[0-9A-F]{2}/g, (escape) => escape.toLowerCase());

/** Encodings of a whole text, each with the decoder that reads it back. */
const TEXT_ENCODINGS: readonly (readonly [string, (text: string) => string, Decoder])[] = [
  ['raw', (text) => text, (text) => [Buffer.from(text, 'utf8')]],
  ['JSON.stringify', (text) => JSON.stringify(text), jsonDecoder],
  [
    '\\u-escape of all but letters and digits',
    (text) => escapeAllButAlnum(text, false),
    jsonDecoder,
  ],
  [
    '\\U-escape of all but letters and digits',
    (text) => escapeAllButAlnum(text, true),
    jsonDecoder,
  ],
  ['encodeURIComponent', encodeURIComponent, percentDecoder(false)],
  [
    'encodeURIComponent, lower-case',
    (text) => lowerPercent(encodeURIComponent(text)),
    percentDecoder(false),
  ],
  ['form-urlencoded', (text) => new URLSearchParams({ q: text }).toString(), percentDecoder(true)],
  [
    'form-urlencoded, lower-case',
    (text) => lowerPercent(new URLSearchParams({ q: text }).toString()),
    percentDecoder(true),
  ],
];

/** Encodings of whole bytes, each with its decoder. */
const BYTE_ENCODINGS: readonly (readonly [string, (bytes: Buffer) => string, Decoder])[] = [
  ['base64', (bytes) => bytes.toString('base64'), base64Decoder(/[A-Za-z0-9+/]+/g, 'base64')],
  [
    'base64url',
    (bytes) => bytes.toString('base64url'),
    base64Decoder(/[A-Za-z0-9_-]+/g, 'base64url'),
  ],
  ['hex', (bytes) => bytes.toString('hex'), hexDecoder],
  ['HEX', (bytes) => bytes.toString('hex').toUpperCase(), hexDecoder],
];

const present = (secret: string, text: string, decode: Decoder): boolean => {
  const bytes = Buffer.from(secret, 'utf8');
  return decode(text).some((decoded) => decoded.includes(bytes));
};

const secrets = fc
  .oneof(
    fc.string({ unit: 'binary', minLength: MIN_REDACTED_LENGTH, maxLength: 24 }),
    fc.string({ unit: 'grapheme', minLength: MIN_REDACTED_LENGTH, maxLength: 12 }),
    fc.string({ unit: 'binary-ascii', minLength: MIN_REDACTED_LENGTH, maxLength: 40 }),
    fc.base64String({ minLength: 8, maxLength: 40 }),
  )
  .filter((secret) => secret.length >= MIN_REDACTED_LENGTH);
const surrounding = fc.string({ unit: 'binary', maxLength: 24 });

describe('the redactor, over random secrets and surrounding text', () => {
  it.each(TEXT_ENCODINGS)(
    'leaves no %s-encoded secret that can be decoded back from a longer text',
    (_name, encode, decode) => {
      fc.assert(
        fc.property(secrets, surrounding, surrounding, (secret, before, after) => {
          const redactor = new Redactor();
          redactor.add(secret);
          const encoded = encode(`${before}${secret}${after}`);
          expect(present(secret, encoded, decode)).toBe(true);
          expect(present(secret, redactor.redact(encoded), decode)).toBe(false);
        }),
      );
    },
  );

  it.each(BYTE_ENCODINGS)(
    'leaves no %s-encoded secret that can be decoded back, at each of the three byte alignments',
    (_name, encode, decode) => {
      fc.assert(
        fc.property(
          secrets,
          fc.uint8Array({ minLength: 2, maxLength: 24 }),
          fc.uint8Array({ maxLength: 24 }),
          (secret, before, after) => {
            const redactor = new Redactor();
            redactor.add(secret);
            for (const alignment of [0, 1, 2]) {
              const cut = before.length - ((((before.length - alignment) % 3) + 3) % 3);
              const whole = Buffer.concat([before.subarray(0, cut), Buffer.from(secret), after]);
              const encoded = encode(whole);
              expect(present(secret, encoded, decode)).toBe(true);
              expect(present(secret, redactor.redact(encoded), decode)).toBe(false);
            }
          },
        ),
      );
    },
  );
});

describe('the redactor, on the cases operators meet', () => {
  it('redacts a password inside the base64 of HTTP Basic user:password', () => {
    const redactor = new Redactor();
    redactor.add('s3cr3t-pa55word');
    const header = Buffer.from('svc-perimeter:s3cr3t-pa55word').toString('base64');
    const redacted = redactor.redact(`Authorization: Basic ${header}`);
    expect(redacted).toContain('[redacted]');
    expect(present('s3cr3t-pa55word', redacted, base64Decoder(/[A-Za-z0-9+/]+/g, 'base64'))).toBe(
      false,
    );
  });

  it('redacts lower-case percent-encoding and form encoding with + for a space', () => {
    const redactor = new Redactor();
    redactor.add('pa ss/word');
    expect(redactor.redact('q=pa%20ss%2fword&x=1')).toBe('q=[redacted]&x=1');
    expect(redactor.redact('q=pa+ss%2Fword&x=1')).toBe('q=[redacted]&x=1');
  });

  it('redacts a secret that itself reads like an escape, in each of its escaped forms', () => {
    const redactor = new Redactor();
    const secret = 'pa%41ss\\wörd';
    redactor.add(secret);
    for (const form of [
      encodeURIComponent(secret),
      lowerPercent(encodeURIComponent(secret)),
      JSON.stringify(secret),
      escapeAllButAlnum(secret, true),
    ]) {
      expect(redactor.redact(`x=${form}&y=1`)).not.toMatch(/pa|ss/);
    }
  });
});

import { PerimeterError, nestsDeeperThan } from '../plugin-api/index.ts';
import type { SecretDecoding, SecretSelector } from '../plugin-api/index.ts';

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
const BASE64URL = /^[A-Za-z0-9_-]*={0,2}$/;
const ARRAY_INDEX = /^(0|[1-9][0-9]*)$/;
/** Deepest JSON a selector reads: a selected part is written out again, recursively. */
const MAX_PAYLOAD_NESTING = 64;

/** What part of a payload a reference reveals, and the canonical reference to name in errors. */
export interface Extraction {
  readonly decode: SecretDecoding;
  readonly selector: SecretSelector | undefined;
  /** The canonical reference (never a value), for error context. */
  readonly ref: string;
}

/**
 * Applies `decode=` then the `#selector` to a whole payload and returns the revealed bytes (a
 * new buffer). Errors name the reference and the selector, never the payload.
 */
export function extractValue(payload: Buffer, extraction: Extraction): Buffer {
  const decoded = decodePayload(payload, extraction);
  const { selector } = extraction;
  if (selector === undefined) {
    return decoded === payload ? Buffer.from(payload) : decoded;
  }
  const document = parseJson(decoded, extraction);
  if (decoded !== payload) {
    decoded.fill(0);
  }
  const selected =
    selector.kind === 'key'
      ? selectKey(document, selector.key)
      : selectPointer(document, selector.tokens);
  return Buffer.from(render(selected, extraction), 'utf8');
}

function decodePayload(payload: Buffer, extraction: Extraction): Buffer {
  if (extraction.decode === 'none') {
    return payload;
  }
  // Line breaks and a trailing newline are common in stored base64; anything else is an error,
  // as Buffer.from would silently drop invalid characters.
  const text = payload.toString('latin1').replace(/[\r\n]/g, '');
  const valid = extraction.decode === 'base64' ? BASE64.test(text) : BASE64URL.test(text);
  if (!valid || text.length % 4 === 1) {
    throw new PerimeterError(
      'SECRET_DECODE_INVALID',
      `The secret is not valid ${extraction.decode}. Remove decode= or store the value encoded`,
      { context: { ref: extraction.ref, decode: extraction.decode } },
    );
  }
  return Buffer.from(text, extraction.decode);
}

function selectorError(extraction: Extraction, problem: string): PerimeterError {
  const selector = extraction.selector;
  const written = selector?.kind === 'key' ? selector.key : selector?.pointer;
  return new PerimeterError(
    'SECRET_SELECTOR_INVALID',
    `The selector #${written ?? ''} does not match the secret: ${problem}`,
    { context: { ref: extraction.ref, selector: written ?? null } },
  );
}

function parseJson(bytes: Buffer, extraction: Extraction): unknown {
  let document: unknown;
  try {
    document = JSON.parse(bytes.toString('utf8')) as unknown;
  } catch {
    // The parser's message quotes the text around the error: never let it out.
    throw selectorError(
      extraction,
      'the value is not JSON; omit the selector to get the whole value',
    );
  }
  if (nestsDeeperThan(document, MAX_PAYLOAD_NESTING)) {
    throw selectorError(
      extraction,
      `the JSON value nests deeper than ${MAX_PAYLOAD_NESTING} levels; omit the selector to get the whole value`,
    );
  }
  return document;
}

const MISSING = Symbol('missing');

function selectKey(document: unknown, key: string): unknown {
  if (!isObject(document) || !Object.hasOwn(document, key)) {
    return MISSING;
  }
  return document[key];
}

function selectPointer(document: unknown, tokens: readonly string[]): unknown {
  let current: unknown = document;
  for (const token of tokens) {
    if (Array.isArray(current)) {
      current = ARRAY_INDEX.test(token) ? (current as unknown[])[Number(token)] : undefined;
    } else if (isObject(current) && Object.hasOwn(current, token)) {
      current = current[token];
    } else {
      return MISSING;
    }
    if (current === undefined) {
      return MISSING;
    }
  }
  return current;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function render(selected: unknown, extraction: Extraction): string {
  if (selected === MISSING) {
    throw selectorError(extraction, 'the JSON value has no such key');
  }
  if (selected === null || selected === '') {
    // An empty credential is never what the operator meant; fail loudly instead.
    throw selectorError(extraction, 'the selected value is null or empty');
  }
  if (typeof selected === 'string') {
    return selected;
  }
  if (typeof selected === 'number' || typeof selected === 'boolean') {
    return String(selected);
  }
  return JSON.stringify(selected);
}

import { PerimeterError } from '../plugin-api/index.ts';

/** Nesting beyond this is refused: instructions are shallow, and recursion must stay bounded. */
const MAX_DEPTH = 64;

/**
 * The RFC 8785 (JCS) canonical form of a JSON value: object members sorted by the UTF-16 code
 * units of their names, no whitespace, numbers as ECMAScript prints them (the RFC's own rule),
 * strings escaped as `JSON.stringify` does (which is the RFC's escaping). What is signed is the
 * UTF-8 encoding of this string.
 *
 * Object members whose value is `undefined` are left out, as `JSON.stringify` does, so an object
 * built in code and the same object parsed from JSON give the same bytes. Throws
 * INSTRUCTION_INVALID for what JSON cannot carry: non-finite numbers, lone surrogates, values
 * that are not JSON, nesting deeper than 64.
 */
export function canonicalJson(value: unknown): string {
  const out: string[] = [];
  write(value, out, '$', 0);
  return out.join('');
}

function write(value: unknown, out: string[], path: string, depth: number): void {
  if (depth > MAX_DEPTH) {
    throw notCanonical(path, `nests deeper than ${MAX_DEPTH} levels`);
  }
  if (value === null || typeof value === 'boolean') {
    out.push(String(value));
    return;
  }
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) {
      throw notCanonical(path, 'is not a finite number');
    }
    // ECMAScript's Number-to-String is the serialisation RFC 8785 §3.2.2.3 prescribes; -0 → "0".
    out.push(String(value));
    return;
  }
  if (typeof value === 'string') {
    out.push(quote(value, path));
    return;
  }
  if (Array.isArray(value)) {
    writeArray(value, out, path, depth);
    return;
  }
  if (typeof value === 'object') {
    writeObject(value as Record<string, unknown>, out, path, depth);
    return;
  }
  throw notCanonical(path, `is a ${typeof value}, not a JSON value`);
}

function writeArray(items: readonly unknown[], out: string[], path: string, depth: number): void {
  out.push('[');
  items.forEach((item, index) => {
    if (index > 0) {
      out.push(',');
    }
    write(item, out, `${path}[${index}]`, depth + 1);
  });
  out.push(']');
}

function writeObject(
  object: Record<string, unknown>,
  out: string[],
  path: string,
  depth: number,
): void {
  // Array.prototype.sort without a comparator compares UTF-16 code units: the order §3.2.3 asks.
  const names = Object.keys(object)
    .filter((name) => object[name] !== undefined)
    .sort();
  out.push('{');
  names.forEach((name, index) => {
    if (index > 0) {
      out.push(',');
    }
    out.push(quote(name, path), ':');
    write(object[name], out, `${path}.${name}`, depth + 1);
  });
  out.push('}');
}

function quote(text: string, path: string): string {
  if (!text.isWellFormed()) {
    throw notCanonical(path, 'holds a lone surrogate, which is not valid Unicode');
  }
  return JSON.stringify(text);
}

function notCanonical(path: string, problem: string): PerimeterError {
  // The path is cut short: member names come from the sender and may be long.
  const where = path.length > 120 ? `${path.slice(0, 120)}…` : path;
  return new PerimeterError('INSTRUCTION_INVALID', `The instruction at ${where} ${problem}.`, {
    context: { problems: [where] },
  });
}

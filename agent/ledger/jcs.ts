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
  return write(value, [], 0);
}

/**
 * Where the value being written sits: member names and array indexes from the root. Kept as a
 * stack and spelled out (`$.run.params[2]`) only when a value is refused, so that signing and
 * ledger hashing build no path string per member.
 */
type Path = (string | number)[];

function write(value: unknown, path: Path, depth: number): string {
  if (depth > MAX_DEPTH) {
    throw notCanonical(path, `nests deeper than ${MAX_DEPTH} levels`);
  }
  if (value === null || typeof value === 'boolean') {
    return String(value);
  }
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) {
      throw notCanonical(path, 'is not a finite number');
    }
    // ECMAScript's Number-to-String is the serialisation RFC 8785 §3.2.2.3 prescribes; -0 → "0".
    return String(value);
  }
  if (typeof value === 'string') {
    return quote(value, path);
  }
  if (Array.isArray(value)) {
    return writeArray(value, path, depth);
  }
  if (typeof value === 'object') {
    return writeObject(value as Record<string, unknown>, path, depth);
  }
  throw notCanonical(path, `is a ${typeof value}, not a JSON value`);
}

function writeArray(items: readonly unknown[], path: Path, depth: number): string {
  let out = '[';
  for (let index = 0; index < items.length; index += 1) {
    if (index > 0) {
      out += ',';
    }
    path.push(index);
    out += write(items[index], path, depth + 1);
    path.pop();
  }
  return `${out}]`;
}

function writeObject(object: Record<string, unknown>, path: Path, depth: number): string {
  // Array.prototype.sort without a comparator compares UTF-16 code units: the order §3.2.3 asks.
  const names = Object.keys(object)
    .filter((name) => object[name] !== undefined)
    .sort();
  let out = '{';
  for (const name of names) {
    if (out.length > 1) {
      out += ',';
    }
    out += `${quote(name, path)}:`;
    path.push(name);
    out += write(object[name], path, depth + 1);
    path.pop();
  }
  return `${out}}`;
}

function quote(text: string, path: Path): string {
  if (!text.isWellFormed()) {
    throw notCanonical(path, 'holds a lone surrogate, which is not valid Unicode');
  }
  return JSON.stringify(text);
}

function spell(path: Path): string {
  return path.reduce<string>(
    (text, step) => (typeof step === 'number' ? `${text}[${step}]` : `${text}.${step}`),
    '$',
  );
}

function notCanonical(path: Path, problem: string): PerimeterError {
  // The path is cut short: member names come from the sender and may be long.
  const full = spell(path);
  const where = full.length > 120 ? `${full.slice(0, 120)}…` : full;
  return new PerimeterError('INSTRUCTION_INVALID', `The instruction at ${where} ${problem}.`, {
    context: { problems: [where] },
  });
}

import fc from 'fast-check';
import { afterAll, expect, vi } from 'vitest';
import { PerimeterError } from '../../../agent/plugin-api/index.ts';
import type { ErrorCode } from '../../../agent/plugin-api/index.ts';
import { proofMode, proofRuns } from '../mode.ts';

/**
 * What every parser of outside input owes, checked over generated inputs: it answers a value or
 * throws a PerimeterError with one of its stable codes, never another error (a TypeError, a
 * RangeError of a blown stack, a SyntaxError quoting the input); it answers within a time bound
 * (generous: the machine is shared; a hang or an exponential case is orders of magnitude over
 * it); and it is given bounded inputs only, deep nesting included, so memory stays bounded.
 */

/** CI runs a fixed seed, so a failure there is the same failure everywhere. */
export const CI_SEED = 20_261_204;

/** Inputs per parser: ~100 in CI, at least 10,000 in the long mode. */
export const PARSER_RUNS = proofRuns({ ci: 100, long: 10_000 });

/** Most time one input may take (a hang, not a slow machine). */
export const INPUT_TIME_BOUND_MS = 2_000;

/** fast-check parameters of every parser property. */
export function params<T>(runs = PARSER_RUNS): fc.Parameters<T> {
  return proofMode === 'ci' ? { numRuns: runs, seed: CI_SEED } : { numRuns: runs };
}

/** How many inputs each property was given (printed by the long run for the README table). */
export const inputsTried = new Map<string, number>();

// The long run prints how many inputs each property was given, for the README's table, and
// gives each property the time 10,000 inputs take (the unit project's default is 20 s).
if (proofMode === 'long') {
  vi.setConfig({ testTimeout: 3_600_000 });
  afterAll(() => {
    for (const [name, inputs] of inputsTried) {
      process.stdout.write(`inputs tried: ${name}: ${inputs}\n`);
    }
  });
}

function count(name: string): void {
  inputsTried.set(name, (inputsTried.get(name) ?? 0) + 1);
}

/** Asserts the outcome of one call: a value, or a coded PerimeterError among `codes`. */
export function expectCoded(error: unknown, codes: readonly ErrorCode[]): void {
  if (!(error instanceof PerimeterError)) {
    throw new Error(`threw an uncoded ${describe(error)}`, { cause: error });
  }
  expect(codes).toContain(error.code);
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message.slice(0, 300)}` : String(error);
}

/** Runs `parse` on one input: a value, or a coded error among `codes`, within the time bound. */
export function parsesOrCoded<R>(
  name: string,
  codes: readonly ErrorCode[],
  parse: () => R,
): { readonly value: R } | { readonly error: PerimeterError } {
  count(name);
  const started = performance.now();
  try {
    return { value: parse() };
  } catch (error) {
    expectCoded(error, codes);
    return { error: error as PerimeterError };
  } finally {
    expect(performance.now() - started).toBeLessThan(INPUT_TIME_BOUND_MS);
  }
}

/** {@link parsesOrCoded} for an asynchronous parser. */
export async function parsesOrCodedAsync<R>(
  name: string,
  codes: readonly ErrorCode[],
  parse: () => Promise<R>,
  boundMs = INPUT_TIME_BOUND_MS,
): Promise<{ readonly value: R } | { readonly error: PerimeterError }> {
  count(name);
  const started = performance.now();
  try {
    return { value: await parse() };
  } catch (error) {
    expectCoded(error, codes);
    return { error: error as PerimeterError };
  } finally {
    expect(performance.now() - started).toBeLessThan(boundMs);
  }
}

/** The bound of one input that is a network exchange through an SDK (its first one logs in). */
export const EXCHANGE_TIME_BOUND_MS = 15_000;

/** A JSON value of bounded size: what outside parties send. */
export const jsonValue = fc.jsonValue({ maxDepth: 4, depthSize: 'small' });

/** Deep nesting, as an object tree `depth` levels deep. */
export function nested(depth: number, leaf: unknown = 1): unknown {
  let value: unknown = leaf;
  for (let level = 0; level < depth; level += 1) {
    value = level % 2 === 0 ? [value] : { k: value };
  }
  return value;
}

/** Depths to try: around the limits, and far past any stack. */
export const depth = fc.oneof(
  fc.integer({ min: 1, max: 80 }),
  fc.constantFrom(1_000, 10_000, 100_000),
);

/** Text that mixes JSON-ish and YAML-ish tokens, control characters and random Unicode. */
export const garbageText = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 200 }),
  fc.string({
    unit: fc.constantFrom(
      '{',
      '}',
      '[',
      ']',
      ':',
      ',',
      '"',
      '\\',
      ' ',
      '\n',
      '-',
      '#',
      '&',
      '*',
      '!',
      '|',
      '>',
      'a',
      '1',
      '%',
      '@',
      '\t',
    ),
    maxLength: 200,
  }),
  jsonValue.map((value) => JSON.stringify(value)),
);

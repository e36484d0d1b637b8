// Small assertion helpers shared by the secret stores' and the resolver's tests.
import { expect } from 'vitest';
import { PerimeterError } from '../../agent/plugin-api/index.ts';

/** `expect.stringContaining`, typed, for use inside `toMatchObject` shapes. */
export function containing(text: string): string {
  return expect.stringContaining(text) as string;
}

/** The PerimeterError `promise` rejects with; anything else (or no rejection) fails the test. */
export async function rejectionOf(promise: Promise<unknown>): Promise<PerimeterError> {
  let outcome: unknown = new Error('expected a rejection, the promise resolved');
  try {
    await promise;
  } catch (error) {
    outcome = error;
  }
  if (outcome instanceof PerimeterError) {
    return outcome;
  }
  throw outcome;
}

/** The PerimeterError `action` throws; anything else (or no throw) fails the test. */
export function thrownBy(action: () => unknown): PerimeterError {
  try {
    action();
  } catch (error) {
    if (error instanceof PerimeterError) {
      return error;
    }
    throw error;
  }
  throw new Error('expected a PerimeterError, nothing was thrown');
}

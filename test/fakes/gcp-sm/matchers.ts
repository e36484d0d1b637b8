import { expect } from 'vitest';

/** `expect.stringContaining`, typed, for use inside `toMatchObject` shapes. */
export function containing(text: string): string {
  return expect.stringContaining(text) as string;
}

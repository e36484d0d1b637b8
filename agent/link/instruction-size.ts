/**
 * Largest instruction accepted, counted as its JSON text without escapes (UTF-16 code units,
 * close to bytes).
 */
export const MAX_INSTRUCTION_BYTES = 1024 * 1024;

/**
 * Whether `value` written as JSON would exceed `limit` characters. Walks without recursion and
 * stops as soon as the bound is passed, so a huge or deeply nested instruction costs no more
 * than the bound before it is refused, and is never validated or verified.
 */
export function jsonExceeds(value: unknown, limit: number): boolean {
  let size = 0;
  const pending: unknown[] = [value];
  while (pending.length > 0) {
    const next = pending.pop();
    if (typeof next === 'string') {
      size += next.length + 2;
    } else if (typeof next === 'object' && next !== null) {
      // Counted before the children are taken, so a huge array or object stops here.
      const entries = Array.isArray(next) ? undefined : Object.entries(next);
      const children = entries === undefined ? (next as unknown[]) : entries.flat();
      // Brackets, commas between items, and a colon per key.
      const items = entries === undefined ? children.length : entries.length;
      size += 2 + Math.max(0, items - 1) + (entries === undefined ? 0 : items);
      if (size > limit) {
        return true;
      }
      for (const child of children) {
        pending.push(child);
      }
    } else {
      size += String(next).length;
    }
    if (size > limit) {
      return true;
    }
  }
  return false;
}

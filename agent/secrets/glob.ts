// Allowlist globs over canonical locators (and over `scheme://locator` for the inline allowlist
// of control-plane connections). Anchored: the whole text must match.
//
// - `*` matches any run of characters within one `/`-separated segment;
// - `**` matches any run of characters across segments (any depth): `a/**` matches everything
//   under `a/`, `a/**/b` matches `a/b` and `a/x/y/b`, and `**` alone matches everything;
// - `?` matches one character other than `/`;
// - every other character matches itself (no character classes or braces: an allowlist should
//   read plainly).

/** A compiled allowlist glob (syntax at the top of glob.ts and in docs/secrets.md). */
export interface Glob {
  readonly pattern: string;
  matches(text: string): boolean;
}

/** Compiles one glob. Throws on an empty pattern or a run of three or more `*`. */
export function compileGlob(pattern: string): Glob {
  const problem = globProblem(pattern);
  if (problem !== undefined) {
    throw new Error(`Invalid glob "${pattern}": ${problem}`);
  }
  const regex = new RegExp(`^${translate(pattern)}$`, 's');
  return { pattern, matches: (text) => regex.test(text) };
}

/** Why a pattern is not a valid glob, or undefined; for config validation messages. */
export function globProblem(pattern: string): string | undefined {
  if (pattern === '') {
    return 'it is empty';
  }
  if (pattern.includes('***')) {
    return 'use * (one segment) or ** (any depth), not ***';
  }
  return undefined;
}

/** True when `text` matches at least one of the globs. */
export function matchesAny(globs: readonly Glob[], text: string): boolean {
  return globs.some((glob) => glob.matches(text));
}

function translate(pattern: string): string {
  let out = '';
  for (let i = 0; i < pattern.length; i += 1) {
    const char = pattern.charAt(i);
    if (pattern.startsWith('**/', i) && (i === 0 || pattern.charAt(i - 1) === '/')) {
      // `a/**` + `/b` also matches `a/b`: zero or more whole segments.
      out += '(?:.*/)?';
      i += 2;
    } else if (char === '*' && pattern.charAt(i + 1) === '*') {
      out += '.*';
      i += 1;
    } else if (char === '*') {
      out += '[^/]*';
    } else if (char === '?') {
      out += '[^/]';
    } else {
      out += char.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    }
  }
  return out;
}

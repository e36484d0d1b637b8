import { YAMLError, parseDocument } from 'yaml';
import { nestsDeeperThan } from '../plugin-api/index.ts';

/** Deepest nesting of mappings and lists a config or job file may have. */
export const MAX_FILE_NESTING = 64;

/** Most aliases a file may expand (a few `<<: *defaults` are fine; a "billion laughs" is not). */
const MAX_ALIAS_COUNT = 100;

/** A file's YAML (or JSON) value, or what is wrong with it, by position and code only. */
export type YamlReading = { readonly value: unknown } | { readonly problem: string };

/**
 * Reads the text of a config or job file: the one YAML reader of outside files. Nesting deeper
 * than {@link MAX_FILE_NESTING} is refused before the parser recurses into it (a file nested
 * thousands deep took seconds and then failed on the parser's stack); a YAML warning (an unknown
 * tag, say) is a problem of the file rather than a line the parser prints on stderr; aliases are
 * bounded. Messages never quote the text.
 */
export function readYamlText(text: string): YamlReading {
  const flow = flowDepth(text);
  if (flow > MAX_FILE_NESTING) {
    return { problem: nestingProblem() };
  }
  const document = parseDocument(text, { prettyErrors: false });
  const [error] = document.errors;
  if (error !== undefined) {
    return { problem: describeYamlError(error, text) };
  }
  const [warning] = document.warnings;
  if (warning !== undefined) {
    return { problem: describeYamlError(warning, text) };
  }
  let value: unknown;
  try {
    value = document.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch {
    return { problem: `expands more than ${MAX_ALIAS_COUNT} aliases; write the values out` };
  }
  return nestsDeeperThan(value, MAX_FILE_NESTING) ? { problem: nestingProblem() } : { value };
}

function nestingProblem(): string {
  return `nests deeper than ${MAX_FILE_NESTING} levels; flatten the file`;
}

/**
 * A YAML syntax error or warning by position and code only: the parser's own message quotes the
 * line.
 */
export function describeYamlError(error: unknown, text: string): string {
  if (error instanceof YAMLError) {
    const before = text.slice(0, error.pos[0]).split('\n');
    const where = `line ${before.length}, column ${(before.at(-1)?.length ?? 0) + 1}`;
    const kind = error.name === 'YAMLWarning' ? 'YAML problem' : 'YAML syntax error';
    return `${kind} at ${where} (${error.code}); fix the file's syntax`;
  }
  return 'could not be parsed as YAML or JSON';
}

/**
 * The deepest nesting of `[` and `{` outside quoted strings and comments: a bound checked
 * before parsing. Brackets inside an unquoted scalar count too, which can only overstate.
 */
function flowDepth(text: string): number {
  let depth = 0;
  let deepest = 0;
  for (let index = 0; index < text.length; index += 1) {
    const character = text[index];
    if (character === '"' || character === "'") {
      index = closingQuote(text, index, character);
    } else if (character === '#' && (index === 0 || /\s/.test(text[index - 1] ?? ''))) {
      const end = text.indexOf('\n', index);
      index = end === -1 ? text.length : end;
    } else if (character === '[' || character === '{') {
      depth += 1;
      deepest = Math.max(deepest, depth);
    } else if ((character === ']' || character === '}') && depth > 0) {
      depth -= 1;
    }
  }
  return deepest;
}

function closingQuote(text: string, open: number, quote: string): number {
  for (let index = open + 1; index < text.length; index += 1) {
    if (quote === '"' && text[index] === '\\') {
      index += 1;
    } else if (text[index] === quote) {
      if (quote === "'" && text[index + 1] === "'") {
        index += 1;
      } else {
        return index;
      }
    }
  }
  return text.length;
}

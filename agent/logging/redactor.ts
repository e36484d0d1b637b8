import { AsyncLocalStorage } from 'node:async_hooks';
import { decodeEscapes, decodedKey, escapeRegExp, secretForms } from './encoded-forms.ts';
import type { SecretForms } from './encoded-forms.ts';
import { LongSecret } from './long-secret.ts';

const CENSOR = '[redacted]';

/**
 * Shortest value redacted by value. Shorter ones would mask ordinary words and numbers all over
 * the logs (a known complaint about CI runners); they are still covered by the SecretValue
 * wrapper and the key-path layer.
 */
export const MIN_REDACTED_LENGTH = 6;

/**
 * Longest value compiled into a pattern. Each character of a secret takes ~20 characters of
 * pattern in its escaped forms, and V8 refuses a pattern of a secret of ~9,000 characters; a
 * longer value (a whole key file, a large JSON credential) is looked for as fixed strings
 * instead (see LongSecret).
 */
export const MAX_PATTERN_SECRET_LENGTH = 1024;

/** Most pattern source per compiled group: many secrets are several patterns, not one huge one. */
const MAX_GROUP_SOURCE = 65_536;

/** The compiled patterns of one group of secrets. */
interface Compiled {
  /** The fixed forms: enough for a line without escape tokens. */
  readonly literal: RegExp;
  /** Whether a line holds an escape token a secret of the group may be written with. */
  readonly escaped: RegExp;
  /** Whether a line, its escapes decoded, may hold a secret; undefined: always look. */
  readonly decoded: RegExp | undefined;
  /** Every form, escaped ones too. */
  readonly full: RegExp;
}

/** One registered value: its forms and who holds it. */
interface Entry {
  /**
   * Computed when the patterns are next compiled, not when the value is registered: a run
   * thread registers its credentials and tokens at every run and most runs write no line there,
   * so most values are never needed in their encoded forms.
   */
  forms: SecretForms | LongSecret | undefined;
  /** Registered outside any run (agent settings, store login tokens): never forgotten. */
  lasting: boolean;
  /** The runs in progress that registered it. */
  readonly holders: Set<RunHold>;
}

/** One run in progress, and the values it registered. */
interface RunHold {
  readonly runId: string;
  readonly values: Set<string>;
}

/** The part of the redactor a run executor needs: scoping a run's secrets to the run. */
export interface RunRedaction {
  /**
   * Runs `work` as run `runId`: every value registered while it runs (by the secret resolver,
   * by the HTTP client) is held by the run, and forgotten when the run ends unless another
   * run in progress, or the agent itself, holds it too.
   */
  scope<T>(runId: string, work: () => Promise<T>): Promise<T>;
}

/**
 * Value-based redaction: the last layer, applied to every finished log line. It knows every
 * secret the resolver revealed and every auth header the HTTP client built, in every form they
 * take on the way out, inside larger encoded data too (see secretForms): raw, JSON-escaped,
 * percent- and form-encoded, base64 and base64url at each alignment, hex. The secrets are
 * compiled, when the set changes, into a few regular expressions of bounded size (longest
 * secrets first); most lines hold no escape token at all and are scanned for the fixed forms
 * only, which is several times faster.
 *
 * A value registered during a run (see {@link Redactor.scope}) is held by that run and forgotten
 * when it ends, so that an agent running for months does not keep every secret it ever read.
 */
export class Redactor implements RunRedaction {
  readonly #entries = new Map<string, Entry>();
  readonly #run = new AsyncLocalStorage<RunHold>();
  /** The compiled groups, rebuilt after the set of secrets changed. */
  #compiled:
    { readonly long: readonly LongSecret[]; readonly groups: readonly Compiled[] } | undefined;

  /**
   * Registers a secret value, held by the run in progress (see scope) or, outside any run, for
   * the agent's lifetime. Returns false when it is too short to be redacted by value.
   */
  add(value: string): boolean {
    return this.#register(value, this.#run.getStore());
  }

  /** Registers a value for the agent's lifetime, even during a run (a store's login token). */
  addLasting(value: string): boolean {
    return this.#register(value, undefined);
  }

  /** Number of distinct secrets held (for tests and /metrics). */
  get size(): number {
    return this.#entries.size;
  }

  async scope<T>(runId: string, work: () => Promise<T>): Promise<T> {
    const hold: RunHold = { runId, values: new Set() };
    try {
      return await this.#run.run(hold, work);
    } finally {
      this.#release(hold);
    }
  }

  /** Replaces every registered secret, in any of its forms, in `text` by `[redacted]`. */
  redact(text: string): string {
    if (this.#entries.size === 0) {
      return text;
    }
    this.#compiled ??= this.#compile();
    let result = text;
    for (const long of this.#compiled.long) {
      result = long.redact(result, CENSOR);
    }
    for (const { literal, escaped, decoded, full } of this.#compiled.groups) {
      const mayBeEscaped =
        escaped.test(result) && (decoded === undefined || decoded.test(decodeEscapes(result)));
      result = result.replace(mayBeEscaped ? full : literal, CENSOR);
    }
    return result;
  }

  #register(value: string, hold: RunHold | undefined): boolean {
    if (value.length < MIN_REDACTED_LENGTH) {
      return false;
    }
    let entry = this.#entries.get(value);
    if (entry === undefined) {
      entry = {
        forms: undefined,
        lasting: false,
        holders: new Set(),
      };
      this.#entries.set(value, entry);
      this.#compiled = undefined;
    }
    if (hold === undefined) {
      entry.lasting = true;
    } else {
      entry.holders.add(hold);
      hold.values.add(value);
    }
    return true;
  }

  #release(hold: RunHold): void {
    for (const value of hold.values) {
      const entry = this.#entries.get(value);
      entry?.holders.delete(hold);
      if (entry !== undefined && !entry.lasting && entry.holders.size === 0) {
        this.#entries.delete(value);
        this.#compiled = undefined;
      }
    }
    hold.values.clear();
  }

  #compile(): { readonly long: readonly LongSecret[]; readonly groups: readonly Compiled[] } {
    const long: LongSecret[] = [];
    const short: [string, SecretForms][] = [];
    for (const [value, entry] of this.#entries) {
      entry.forms ??=
        value.length > MAX_PATTERN_SECRET_LENGTH ? new LongSecret(value) : secretForms(value);
      const { forms } = entry;
      if (forms instanceof LongSecret) {
        long.push(forms);
      } else {
        short.push([value, forms]);
      }
    }
    long.sort((a, b) => b.length - a.length);
    // Longest first across groups too, so that `user:secret` goes before `secret` inside it.
    short.sort(([a], [b]) => b.length - a.length);
    const groups: Compiled[] = [];
    let group = new Map<string, SecretForms>();
    let size = 0;
    for (const [value, forms] of short) {
      const source = sourceLength(forms);
      if (group.size > 0 && size + source > MAX_GROUP_SOURCE) {
        groups.push(compile(group));
        group = new Map();
        size = 0;
      }
      group.set(value, forms);
      size += source;
    }
    if (group.size > 0) {
      groups.push(compile(group));
    }
    return { long, groups };
  }
}

function sourceLength(forms: SecretForms): number {
  return forms.literal.reduce((sum, literal) => sum + literal.length + 1, forms.escaped.length);
}

function compile(secrets: ReadonlyMap<string, SecretForms>): Compiled {
  const forms = [...secrets.values()];
  // Longest first, so that `user:secret` is replaced whole before `secret` inside it (and, as
  // measured, the engine scans a length-sorted alternation several times faster).
  const byLength = (sources: string[]): string[] =>
    [...new Set(sources)].sort((a, b) => b.length - a.length);
  const literal = byLength(forms.flatMap((f) => f.literal));
  const escaped = byLength(forms.map((f) => f.escaped));
  const tokens = new Set([
    '%[0-9a-fA-F]{2}',
    '\\\\u[0-9a-fA-F]{4}',
    ...forms.flatMap((f) => f.tokens),
  ]);
  const keys = [...secrets.keys()].map(decodedKey);
  const decoded = keys.every((key) => key !== undefined)
    ? new RegExp(byLength(keys.map(escapeRegExp)).join('|'))
    : undefined;
  return {
    literal: new RegExp(literal.join('|'), 'g'),
    escaped: new RegExp([...tokens].join('|')),
    decoded,
    full: new RegExp([firstCharacterGuard(forms, escaped), ...literal].join('|'), 'g'),
  };
}

/**
 * The escaped forms behind one look-ahead on their possible first characters: without it the
 * engine tries every secret at every position (measured: several times slower).
 */
function firstCharacterGuard(forms: readonly SecretForms[], escaped: readonly string[]): string {
  const firsts = new Set(forms.map((f) => f.firstCharacter.replace(/[\\\]^-]/g, '\\$&')));
  return `(?=[${[...firsts].join('')}\\\\%+])(?:${escaped.join('|')})`;
}

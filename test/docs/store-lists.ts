// The lists of secret store schemes written out in docs and the Helm chart, generated from or
// checked against the registry (secrets/index.ts), so that a new store is added in one place.
import { secretStores } from '../../secrets/index.ts';

/** The registered schemes, in the registry's order. */
export function storeSchemes(): string[] {
  return secretStores.map((store) => store.scheme);
}

/** `a`, `b` or `c`. */
function orList(items: readonly string[]): string {
  return items.length < 2 ? items.join('') : `${items.slice(0, -1).join(', ')} or ${items.at(-1)}`;
}

/** The lines of docs/secrets.md that list the stores, each found by its pattern. */
const SECRETS_DOC_LISTS: readonly { readonly line: RegExp; readonly render: () => string }[] = [
  {
    line: /^scheme {4}= .*$/m,
    render: () =>
      `scheme    = ${storeSchemes()
        .map((scheme) => `"${scheme}"`)
        .join(' | ')}`,
  },
  {
    line: /^\| `type` \| the store: .*\|$/m,
    render: () =>
      `| \`type\` | the store: ${orList(storeSchemes().map((scheme) => `\`${scheme}\``))} |`,
  },
];

/** docs/secrets.md with its lists of stores rewritten from the registry (idempotent). */
export function renderSecretsDocLists(text: string): string {
  return SECRETS_DOC_LISTS.reduce((doc, { line, render }) => {
    if (!line.test(doc)) {
      throw new Error(`docs/secrets.md: no line matches ${String(line)}; update store-lists.ts`);
    }
    return doc.replace(line, render());
  }, text);
}

/** The `### <scheme>` headings of the `## Stores` section of docs/secrets.md. */
export function documentedStores(text: string): string[] {
  const start = text.indexOf('\n## Stores\n');
  const end = text.indexOf('\n## ', start + 1);
  const section = text.slice(start, end < 0 ? undefined : end);
  return [...section.matchAll(/^### (\S+)$/gm)].map((match) => match[1] ?? '');
}

/** What the Helm chart's values.schema.json says a store scheme is. */
export interface ChartStoreSchemes {
  /** The alternatives of each `^(a|b|…)://` pattern (secret references). */
  readonly patterns: string[][];
  /** Each `enum` of a `type` under `secretStores`. */
  readonly enums: string[][];
}

const REF_PATTERN = /^\^\(([^)]*)\):\/\/$/;

/** Finds the reference patterns and store type enums anywhere in the chart's values schema. */
export function chartStoreSchemes(schema: unknown): ChartStoreSchemes {
  const found: ChartStoreSchemes = { patterns: [], enums: [] };
  const walk = (node: unknown, path: readonly string[]): void => {
    if (typeof node !== 'object' || node === null) {
      return;
    }
    for (const [key, value] of Object.entries(node)) {
      const match = key === 'pattern' && typeof value === 'string' ? REF_PATTERN.exec(value) : null;
      if (match !== null) {
        found.patterns.push((match[1] ?? '').split('|'));
      }
      if (key === 'enum' && path.at(-1) === 'type' && path.includes('secretStores')) {
        found.enums.push((value as unknown[]).map(String));
      }
      walk(value, [...path, key]);
    }
  };
  walk(schema, []);
  return found;
}

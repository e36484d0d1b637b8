import { PerimeterError } from './errors.ts';
import type { SecretRef } from './secrets.ts';

/** The parts of a reference that its text is made of (everything but `raw`). */
export type SecretRefParts = Omit<SecretRef, 'raw'>;

/**
 * Writes a reference in its canonical text form, `scheme://locator[?params][#selector]`
 * (docs/secrets.md): what the agent's parser reads back as the same parts. Everything that
 * would read as syntax is percent-encoded; `/`, `:` and `@` stay readable in the locator.
 * Params come in a fixed order (store, version, decode, max-age, then the store's own, sorted);
 * `store=` is left out for the scheme's default profile and `decode=` for `none`.
 * Throws SECRET_INVALID_REF for text no reference can hold (a lone surrogate).
 */
export function formatSecretRef(ref: SecretRefParts): string {
  const params: [string, string][] = [];
  if (ref.profile !== ref.scheme) {
    params.push(['store', ref.profile]);
  }
  if (ref.version !== undefined) {
    params.push(['version', ref.version]);
  }
  if (ref.decode !== 'none') {
    params.push(['decode', ref.decode]);
  }
  if (ref.maxAgeSeconds !== undefined) {
    params.push(['max-age', String(ref.maxAgeSeconds)]);
  }
  params.push(...Object.entries(ref.params).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  const query =
    params.length === 0
      ? ''
      : `?${params.map(([name, value]) => `${encode(name)}=${encode(value)}`).join('&')}`;
  return `${ref.scheme}://${encodeLocator(ref.locator)}${query}${formatSelector(ref.selector)}`;
}

function formatSelector(selector: SecretRef['selector']): string {
  if (selector === undefined) {
    return '';
  }
  if (selector.kind === 'key') {
    return `#${encode(selector.key)}`;
  }
  const tokens = selector.tokens.map((token) =>
    encode(token.replaceAll('~', '~0').replaceAll('/', '~1')),
  );
  return `#/${tokens.join('/')}`;
}

function encodeLocator(locator: string): string {
  return encode(locator).replace(/%2F|%3A|%40/g, (escape) => decodeURIComponent(escape));
}

function encode(text: string): string {
  if (!text.isWellFormed()) {
    throw new PerimeterError(
      'SECRET_INVALID_REF',
      'A secret reference cannot hold a lone surrogate (text that is not valid Unicode).',
    );
  }
  return encodeURIComponent(text);
}

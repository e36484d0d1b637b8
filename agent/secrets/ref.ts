import { PerimeterError } from '../plugin-api/index.ts';
import type {
  SecretDecoding,
  SecretRef,
  SecretSelector,
  SecretStoreDefinition,
} from '../plugin-api/index.ts';

/** What the parser needs to know of each store: its scheme and its own params. */
export type KnownScheme = Pick<SecretStoreDefinition, 'scheme' | 'params'>;

/** The form every reference error shows, so the operator sees what a good one looks like. */
export const REF_FORM =
  'scheme://locator[?params][#selector], e.g. aws-sm://prod/db?version=AWSPREVIOUS#password';

const COMMON_PARAMS = ['store', 'version', 'decode', 'max-age'] as const;
const DECODINGS: readonly SecretDecoding[] = ['none', 'base64', 'base64url'];
const MAX_REF_LENGTH = 2048;
const SCHEME = /^[A-Za-z][A-Za-z0-9+.-]{0,31}$/;
/** Profile names, as in the `secretStores` section. */
export const PROFILE_NAME = /^[a-z][a-z0-9-]{0,62}$/;
export const MIN_MAX_AGE_SECONDS = 30;
export const MAX_MAX_AGE_SECONDS = 3600;

// Params named like credentials (compared lower-case, without `-` and `_`). vals lets a reference
// carry a Vault token or AppRole ids; a reference may come from the control plane, so never here.
const CREDENTIAL_PARAMS = new Set(
  (
    'key apikey accesskey accesskeyid secretaccesskey privatekey secretkey secret secretid ' +
    'clientsecret roleid password passwd pwd pass passphrase auth authorization bearer jwt sig ' +
    'signature cookie sas'
  ).split(' '),
);
const CREDENTIAL_FRAGMENTS = ['token', 'secret', 'password', 'passwd', 'credential', 'apikey'];

/** True when a param name looks like it carries a credential. */
export function isCredentialParam(name: string): boolean {
  const folded = name.toLowerCase().replace(/[-_]/g, '');
  return CREDENTIAL_PARAMS.has(folded) || CREDENTIAL_FRAGMENTS.some((f) => folded.includes(f));
}

/**
 * Parses `scheme://locator[?params][#selector]` (docs/secrets.md). Splits on the first `?` and
 * `#` by hand: WHATWG URL takes the first segment for a host and throws on ARNs.
 * Throws SECRET_INVALID_REF; the reference is echoed in context only when it is safe to.
 */
export function parseSecretRef(text: string, knownSchemes: readonly KnownScheme[]): SecretRef {
  const fail: Fail = failer(text);
  if (text.length > MAX_REF_LENGTH) {
    fail(`it is longer than ${MAX_REF_LENGTH} characters`);
  }
  if (/[\s\p{Cc}]/u.test(text)) {
    fail('it contains whitespace or control characters; percent-encode them');
  }
  const separator = text.indexOf('://');
  const scheme = separator > 0 ? text.slice(0, separator) : '';
  if (!SCHEME.test(scheme)) {
    fail('it has no scheme:// prefix; credentials are always references, never literal values');
  }
  const store = knownSchemes.find((known) => known.scheme === scheme);
  if (store === undefined) {
    const known = knownSchemes.map((s) => s.scheme).join(', ');
    fail(`unknown scheme "${scheme}"; known schemes: ${known}`);
  }
  const rest = text.slice(separator + 3);
  const hash = rest.indexOf('#');
  const query = rest.indexOf('?');
  if (hash !== -1 && query > hash) {
    fail('the query must come before the fragment: write scheme://locator?params#selector');
  }
  const locatorEnd = [query, hash]
    .filter((i) => i !== -1)
    .reduce((a, b) => Math.min(a, b), rest.length);
  const queryText =
    query === -1 ? undefined : rest.slice(query + 1, hash === -1 ? undefined : hash);
  const params = parseParams(queryText, fail);
  checkParams(params, store, fail);
  const locator = decode(rest.slice(0, locatorEnd), 'the locator', fail);
  if (locator === '') {
    fail('the locator is empty');
  }
  return {
    raw: text,
    scheme,
    locator,
    ...commonParams(params, scheme, fail),
    params: Object.fromEntries([...params].filter(([name]) => !isCommon(name))),
    selector: hash === -1 ? undefined : parseSelector(rest.slice(hash + 1), fail),
  };
}

type Fail = (problem: string) => never;

function failer(text: string): Fail {
  // Echo the reference only when it starts like one and carries no credential-looking param:
  // a literal password pasted where a reference belongs must not end up in an error or a log.
  const echo =
    SCHEME.test(text.split('://')[0] ?? '') && text.includes('://') && !hasCredentialParam(text);
  return (problem) => {
    throw new PerimeterError(
      'SECRET_INVALID_REF',
      `Invalid secret reference: ${problem}. Expected ${REF_FORM}`,
      {
        context: echo ? { ref: text } : {},
      },
    );
  };
}

function hasCredentialParam(text: string): boolean {
  const query = text.split('#')[0]?.split('?').slice(1).join('?') ?? '';
  const fragmentQuery = text.split('#').slice(1).join('#').split('?').slice(1).join('?');
  return [query, fragmentQuery]
    .flatMap((q) => q.split('&'))
    .some((pair) => isCredentialParam(safeDecode(pair.split('=')[0] ?? '')));
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

function decode(text: string, what: string, fail: Fail): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return fail(`${what} has a malformed percent-encoding`);
  }
}

function parseParams(query: string | undefined, fail: Fail): Map<string, string> {
  const params = new Map<string, string>();
  if (query === undefined) {
    return params;
  }
  for (const pair of query.split('&')) {
    const equals = pair.indexOf('=');
    const name = decode(equals === -1 ? pair : pair.slice(0, equals), 'a param name', fail);
    if (isCredentialParam(name)) {
      fail(
        `the param "${name}" looks like a credential; credentials belong in the store profile (secretStores.<profile>), never in a reference`,
      );
    }
    if (name === '' || equals === -1) {
      fail(`every param must be name=value (got "${name}")`);
    }
    if (params.has(name)) {
      fail(`the param "${name}" is given twice`);
    }
    params.set(name, decode(pair.slice(equals + 1), `the value of "${name}"`, fail));
  }
  return params;
}

function isCommon(name: string): boolean {
  return (COMMON_PARAMS as readonly string[]).includes(name);
}

function checkParams(params: ReadonlyMap<string, string>, store: KnownScheme, fail: Fail): void {
  for (const name of params.keys()) {
    if (!isCommon(name) && !store.params.includes(name)) {
      const allowed = [...COMMON_PARAMS, ...store.params].join(', ');
      fail(`unknown param "${name}" for ${store.scheme}; allowed: ${allowed}`);
    }
  }
}

function commonParams(
  params: ReadonlyMap<string, string>,
  scheme: string,
  fail: Fail,
): Pick<SecretRef, 'profile' | 'version' | 'decode' | 'maxAgeSeconds'> {
  const profile = params.get('store') ?? scheme;
  if (!PROFILE_NAME.test(profile)) {
    fail('store= must be a profile name ([a-z][a-z0-9-]*, up to 63 characters)');
  }
  const version = params.get('version');
  if (version === '') {
    fail('version= is empty; omit it for the latest version');
  }
  const decoding = params.get('decode') ?? 'none';
  if (!(DECODINGS as readonly string[]).includes(decoding)) {
    fail(`decode= must be one of ${DECODINGS.join(', ')}`);
  }
  const maxAge = params.get('max-age');
  const maxAgeSeconds = maxAge === undefined ? undefined : Number(maxAge);
  if (
    maxAgeSeconds !== undefined &&
    (!/^\d+$/.test(maxAge ?? '') ||
      maxAgeSeconds < MIN_MAX_AGE_SECONDS ||
      maxAgeSeconds > MAX_MAX_AGE_SECONDS)
  ) {
    fail(`max-age= must be whole seconds from ${MIN_MAX_AGE_SECONDS} to ${MAX_MAX_AGE_SECONDS}`);
  }
  return { profile, version, decode: decoding as SecretDecoding, maxAgeSeconds };
}

function parseSelector(fragment: string, fail: Fail): SecretSelector {
  if (fragment === '') {
    fail('the selector after # is empty; omit # for the whole value');
  }
  if (fragment.includes('#')) {
    fail('the selector contains a second #; percent-encode it as %23');
  }
  // Decided on the raw text, so `#a%2Fb` stays the key "a/b" and only `#/...` is a pointer.
  if (!fragment.startsWith('/')) {
    return { kind: 'key', key: decode(fragment, 'the selector', fail) };
  }
  const tokens = fragment
    .slice(1)
    .split('/')
    .map((raw) => {
      const token = decode(raw, 'the selector', fail);
      if (/~(?![01])/.test(token)) {
        fail('a JSON pointer escapes only ~0 (for ~) and ~1 (for /)');
      }
      return token.replace(/~1/g, '/').replace(/~0/g, '~');
    });
  return { kind: 'pointer', pointer: decode(fragment, 'the selector', fail), tokens };
}

import { PerimeterError } from '../plugin-api/index.ts';
import type { HttpMethod } from '../plugin-api/index.ts';
import type { DestinationPolicy, ErrorDomain } from './types.ts';

/** A parsed host pattern: exact host or any subdomain, with a port rule. */
interface HostPattern {
  readonly host: string;
  readonly subdomains: boolean;
  /** A port, `any` (`host:*`) or `default` (no port: the default port of the URL's scheme). */
  readonly port: number | 'any' | 'default';
}

const DEFAULT_PORTS: Readonly<Record<string, number>> = { 'http:': 80, 'https:': 443 };
const FORBIDDEN_HOST_CHARS = /[/?#@\s\\]/;

/**
 * Explains why a host pattern is malformed, or returns undefined when it is valid. The config
 * layer reports it under the key path; a malformed pattern never matches anything.
 */
export function describeHostPatternProblem(pattern: string): string | undefined {
  const parsed = parseHostPattern(pattern);
  return typeof parsed === 'string' ? parsed : undefined;
}

/**
 * True when the URL's host and port match one of the patterns (`host`, `host:port`, `host:*`,
 * `*.domain`, `[v6]:port`; case-insensitive; no port means the default port of the URL's scheme).
 */
export function isHostAllowed(allowedHosts: readonly string[], url: URL): boolean {
  const host = normalizeHost(url.hostname);
  const port = portOf(url);
  if (port === undefined) {
    return false;
  }
  return allowedHosts.some((text) => {
    const pattern = parseHostPattern(text);
    return typeof pattern !== 'string' && matchesHost(pattern, host, port, url.protocol);
  });
}

/**
 * True when the method may be sent to the URL's path: HEAD always, GET on the `allowedReads`
 * paths when the policy lists them (any path otherwise), anything else only when listed in
 * `allowedCalls` (`*` matches one path segment, a final `**` the rest).
 */
export function isCallAllowed(policy: DestinationPolicy, method: HttpMethod, url: URL): boolean {
  if (method === 'HEAD') {
    return true;
  }
  if (method === 'GET') {
    const reads = policy.allowedReads;
    return reads === undefined || reads.some((path) => pathMatches(path, url.pathname));
  }
  return policy.allowedCalls.some(
    (call) => call.method === method && pathMatches(call.path, url.pathname),
  );
}

/** Where a request is going, for the error a refusal throws. */
export interface DestinationCheck {
  readonly method: HttpMethod;
  readonly url: URL;
  readonly endpoint: string;
  readonly domain: ErrorDomain;
}

/**
 * Throws POLICY_DENIED unless the scheme is http(s), the host is allowed and the method is a
 * read or a declared call. Called before every hop, so nothing connects to a refused host.
 */
export function assertDestination(policy: DestinationPolicy, check: DestinationCheck): void {
  const { method, url, endpoint, domain } = check;
  const context = { host: url.host, method, endpoint };
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new PerimeterError(
      'POLICY_DENIED',
      `Refused ${endpoint}: the ${url.protocol} scheme is not allowed, only http and https.`,
      { context },
    );
  }
  if (url.username !== '' || url.password !== '') {
    throw new PerimeterError(
      'POLICY_DENIED',
      `Refused ${endpoint}: the URL embeds credentials; send them in a header instead.`,
      { context },
    );
  }
  if (!isHostAllowed(policy.allowedHosts, url)) {
    throw new PerimeterError(
      'POLICY_DENIED',
      `Refused ${endpoint}: host ${url.host} is not in the allowed hosts. ${hostHint(domain)}`,
      { context },
    );
  }
  if (!isCallAllowed(policy, method, url)) {
    throw new PerimeterError(
      'POLICY_DENIED',
      method === 'GET'
        ? `Refused ${endpoint}: GET ${url.pathname} is not among the paths the connector declares it reads.`
        : `Refused ${endpoint}: ${method} ${url.pathname} is not a declared call; only GET, HEAD and the declared calls may be sent.`,
      { context },
    );
  }
}

function hostHint(domain: ErrorDomain): string {
  switch (domain) {
    case 'source':
      return 'A connection reaches only the endpoints its settings declare (`perimeter check` lists them); if the host belongs in a setting, put it there and add it to `policy.connectors.<name>.allowHosts` only if you trust it.';
    case 'sink':
      return 'The catalog is reached only at the host of its configured URL.';
    case 'controlPlane':
      return 'The control plane is reached only at the host of its configured URL.';
  }
}

/**
 * Parsed patterns by text: every request of every client checks its host against them, and a
 * run's policy names the same few hosts again and again. Cleared when full, as inline
 * connections from the control plane may name any number of hosts over time.
 */
const parsedPatterns = new Map<string, HostPattern | string>();
const MAX_PARSED_PATTERNS = 1_000;

function parseHostPattern(text: string): HostPattern | string {
  let parsed = parsedPatterns.get(text);
  if (parsed === undefined) {
    if (parsedPatterns.size >= MAX_PARSED_PATTERNS) {
      parsedPatterns.clear();
    }
    parsed = parseHostPatternText(text);
    parsedPatterns.set(text, parsed);
  }
  return parsed;
}

function parseHostPatternText(text: string): HostPattern | string {
  const pattern = text.trim().toLowerCase();
  const bracketed = /^(\[[^\]]+\])(?::([^:]*))?$/.exec(pattern);
  const plain = /^([^:[\]]+)(?::([^:]*))?$/.exec(pattern);
  const match = bracketed ?? plain;
  if (match === null) {
    return 'write it as host, host:port, host:*, *.domain or [IPv6]:port';
  }
  const [, hostPart = '', portPart] = match;
  const port = parsePort(portPart);
  if (port === undefined) {
    return 'the port must be a number from 1 to 65535 or *';
  }
  const subdomains = hostPart.startsWith('*.');
  const bare = subdomains ? hostPart.slice(2) : hostPart;
  if (bare.includes('*')) {
    return '* may only stand for the subdomains, as in *.example.com';
  }
  const host = canonicalHost(bare);
  if (host === undefined) {
    return `${bare} is not a host name or IP address`;
  }
  return { host, subdomains, port };
}

function parsePort(text: string | undefined): HostPattern['port'] | undefined {
  if (text === undefined) {
    return 'default';
  }
  if (text === '*') {
    return 'any';
  }
  const port = /^\d{1,5}$/.test(text) ? Number(text) : 0;
  return port >= 1 && port <= 65_535 ? port : undefined;
}

/** The host as a URL would spell it (IPv6 compressed, IDN in punycode), without a final dot. */
function canonicalHost(host: string): string | undefined {
  if (host === '' || FORBIDDEN_HOST_CHARS.test(host) || !URL.canParse(`http://${host}/`)) {
    return undefined;
  }
  return normalizeHost(new URL(`http://${host}/`).hostname);
}

function normalizeHost(hostname: string): string {
  return hostname.toLowerCase().replace(/\.$/, '');
}

function portOf(url: URL): number | undefined {
  return url.port === '' ? DEFAULT_PORTS[url.protocol] : Number(url.port);
}

function matchesHost(pattern: HostPattern, host: string, port: number, protocol: string): boolean {
  const hostMatches = pattern.subdomains
    ? host.endsWith(`.${pattern.host}`) && host.length > pattern.host.length + 1
    : host === pattern.host;
  if (!hostMatches) {
    return false;
  }
  switch (pattern.port) {
    case 'any':
      return true;
    case 'default':
      return port === DEFAULT_PORTS[protocol];
    default:
      return port === pattern.port;
  }
}

function pathMatches(pattern: string, path: string): boolean {
  const wanted = pattern.split('/');
  const given = path.split('/');
  for (const [index, segment] of wanted.entries()) {
    const actual = given[index];
    if (segment === '**') {
      // The rest of the path, at least one segment of it; only as the last pattern segment.
      return index === wanted.length - 1 && actual !== undefined && actual !== '';
    }
    if (actual === undefined || (segment === '*' ? actual === '' : segment !== actual)) {
      return false;
    }
  }
  return wanted.length === given.length;
}

/**
 * The policy of a client for one of the agent's own services (catalog, control plane): that
 * service's host only, GET/HEAD, and POST on the given paths below the URL's base path.
 */
export function servicePolicy(baseUrl: string, postPaths: readonly string[]): DestinationPolicy {
  const url = new URL(baseUrl);
  const base = url.pathname.replace(/\/+$/, '');
  return {
    allowedHosts: [url.host],
    allowedCalls: postPaths.map((path) => ({ method: 'POST' as const, path: `${base}${path}` })),
  };
}

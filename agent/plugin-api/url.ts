import { z } from 'zod';

/** Hosts a plain-http URL may name: a simulator or fake on this machine. */
const LOOPBACK_HOSTS: ReadonlySet<string> = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);

/** True for a host name that never leaves the machine: plain http is tolerated only there. */
export function isLoopbackHost(hostname: string): boolean {
  return LOOPBACK_HOSTS.has(hostname);
}

/** What {@link urlProblems} accepts. */
export interface UrlRule {
  /** An example for the messages, e.g. `https://api.cyera.io`. */
  readonly example: string;
  /** The URL is an origin only (no path), e.g. an API host. @default false */
  readonly originOnly?: boolean;
  /** The setting that holds the credential instead, named when the URL carries one. */
  readonly credentialKey?: string;
}

/**
 * The one rule for every URL Perimeter calls out to (sources, catalog, control plane): absolute,
 * https — plain http only to a loopback host (a local simulator) — without credentials, query or
 * fragment, and for an origin without a path. Returns one message per problem, none when valid;
 * the messages never repeat the value.
 */
export function urlProblems(value: string, rule: UrlRule): string[] {
  const url = URL.parse(value);
  if (url === null) {
    return [`must be an absolute URL, e.g. ${rule.example}`];
  }
  const problems: string[] = [];
  if (url.username !== '' || url.password !== '') {
    const where = rule.credentialKey === undefined ? '' : ` in ${rule.credentialKey}`;
    problems.push(`must not carry credentials; put them${where} as a secret reference`);
  }
  if (url.search !== '' || url.hash !== '') {
    problems.push('must not have a query string or a fragment');
  }
  if (rule.originOnly === true && url.pathname !== '/') {
    problems.push(`must be an origin without a path, e.g. ${rule.example}`);
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && isLoopbackHost(url.hostname))) {
    problems.push(
      'must use https; plain http is accepted only for 127.0.0.1, localhost or [::1] (a local simulator)',
    );
  }
  return problems;
}

/** {@link urlProblems} as a zod refinement, for settings that keep their own transform. */
export function urlRefinement(rule: UrlRule): (value: string, ctx: z.RefinementCtx) => void {
  return (value, ctx) => {
    for (const message of urlProblems(value, rule)) {
      ctx.addIssue({ code: 'custom', message });
    }
  };
}

/**
 * Schema of a source's base URL in a connector's settings: {@link urlProblems} with
 * `originOnly`, normalised to its origin (`https://host[:port]`, default port dropped).
 */
export function sourceUrl(example: string): z.ZodPipe<z.ZodString, z.ZodTransform<string, string>> {
  return z
    .string()
    .superRefine(urlRefinement({ example, originOnly: true }))
    .transform((value) => new URL(value).origin);
}

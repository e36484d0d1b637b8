import type { z } from 'zod';

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

/**
 * Refinement of a service endpoint Perimeter calls out to (catalog, control plane): an absolute
 * https URL without credentials, query or fragment; plain http only on loopback (a local fake).
 * `tokenKey` names the setting that holds the credential instead, for the error message.
 */
export function checkEndpointUrl(options: {
  readonly example: string;
  readonly tokenKey: string;
}): (value: string, ctx: z.RefinementCtx) => void {
  return (value, ctx) => {
    for (const message of endpointUrlProblems(value, options)) {
      ctx.addIssue({ code: 'custom', message });
    }
  };
}

function endpointUrlProblems(
  value: string,
  options: { readonly example: string; readonly tokenKey: string },
): string[] {
  const url = URL.parse(value);
  if (url === null) {
    return [`must be an absolute URL, e.g. ${options.example}`];
  }
  const problems: string[] = [];
  if (url.username !== '' || url.password !== '') {
    problems.push(
      `must not carry credentials; put the token in ${options.tokenKey} as a secret reference`,
    );
  }
  if (url.search !== '' || url.hash !== '') {
    problems.push('must not have a query string or a fragment');
  }
  if (
    url.protocol !== 'https:' &&
    !(url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname))
  ) {
    problems.push(
      'must use https; plain http is accepted only for 127.0.0.1, localhost or [::1] (a local test service)',
    );
  }
  return problems;
}

import type { HttpSettings } from './settings.ts';

const DEFAULT_PORTS: Readonly<Record<string, number>> = { 'http:': 80, 'https:': 443 };

/**
 * The proxy a request to `url` goes through, or undefined when it goes direct. This is the rule
 * the dispatcher's EnvHttpProxyAgent applies (https uses httpsProxy, else httpProxy; a noProxy
 * entry matches its host and subdomains, `*.domain` subdomains only, `host:port` that port,
 * `*` everything), which undici keeps private; the TLS diagnostic needs it to take the same path.
 */
export function proxyFor(url: URL, settings: HttpSettings): URL | undefined {
  const proxy =
    url.protocol === 'https:' ? (settings.httpsProxy ?? settings.httpProxy) : settings.httpProxy;
  if (proxy === undefined || bypassed(url, settings.noProxy ?? '')) {
    return undefined;
  }
  return new URL(proxy);
}

function bypassed(url: URL, noProxy: string): boolean {
  const hostname = url.hostname
    .replace(/^\[(.+)\]$/, '$1')
    .replace(/(.)\.$/, '$1')
    .toLowerCase();
  const port = url.port === '' ? (DEFAULT_PORTS[url.protocol] ?? 0) : Number(url.port);
  return noProxy
    .split(/[,\s]/)
    .filter((entry) => entry !== '')
    .some((entry) => {
      const { host, entryPort } = splitEntry(entry);
      if (entryPort !== 0 && entryPort !== port) {
        return false;
      }
      if (host === '*') {
        return true;
      }
      const name = host
        .replace(/^\*?\./, '')
        .replace(/^(.+)\.$/, '$1')
        .toLowerCase();
      return (!entry.startsWith('*') && hostname === name) || hostname.endsWith(`.${name}`);
    });
}

function splitEntry(entry: string): { host: string; entryPort: number } {
  const bracketed = /^\[(.+)\]:(\d+)$/.exec(entry);
  if (bracketed !== null) {
    return { host: bracketed[1] ?? '', entryPort: Number(bracketed[2]) };
  }
  const unbracketed = entry.replace(/^\[(.+)\]$/, '$1');
  const withPort = /^([^:]+):(\d+)$/.exec(unbracketed);
  return withPort === null
    ? { host: unbracketed, entryPort: 0 }
    : { host: withPort[1] ?? '', entryPort: Number(withPort[2]) };
}

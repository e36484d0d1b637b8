import { Agent, EnvHttpProxyAgent } from 'undici';
import type { Dispatcher } from 'undici';
import type { HttpSettings } from './settings.ts';

/** TLS material on top of the settings: the trusted CAs and an mTLS client certificate. */
export interface TlsMaterial {
  /** The `ca` option from caTrust(): undefined keeps Node's default set. */
  readonly ca?: string[] | undefined;
  readonly clientCert?: { readonly certPem: string; readonly keyPem: string } | undefined;
}

/**
 * Builds the undici dispatcher: a plain Agent, or, when a proxy is set, an EnvHttpProxyAgent
 * given every proxy value explicitly. Empty strings stand for "unset" on purpose: undici reads
 * HTTP_PROXY/HTTPS_PROXY/NO_PROXY itself for undefined options, and only agent/config reads the
 * environment here.
 */
export function createDispatcher(settings: HttpSettings, tls: TlsMaterial): Dispatcher {
  const targetTls = {
    ...(tls.ca === undefined ? {} : { ca: tls.ca }),
    ...(tls.clientCert === undefined
      ? {}
      : { cert: tls.clientCert.certPem, key: tls.clientCert.keyPem }),
  };
  const common = {
    headersTimeout: settings.headersTimeoutMs,
    bodyTimeout: settings.bodyTimeoutMs,
    connectTimeout: settings.connectTimeoutMs,
    connect: { ...targetTls, timeout: settings.connectTimeoutMs },
  };
  if (settings.httpsProxy === undefined && settings.httpProxy === undefined) {
    return new Agent(common);
  }
  return new EnvHttpProxyAgent({
    ...common,
    httpProxy: settings.httpProxy ?? '',
    httpsProxy: settings.httpsProxy ?? '',
    noProxy: settings.noProxy ?? '',
    // Through a tunnel, the target's TLS is set apart from the proxy's own (an https proxy may
    // sit behind the same private CA, but never sees the client certificate).
    requestTls: targetTls,
    ...(tls.ca === undefined ? {} : { proxyTls: { ca: tls.ca } }),
  });
}

import { X509Certificate } from 'node:crypto';
import { once } from 'node:events';
import { request as httpRequest } from 'node:http';
import type { ClientRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Socket } from 'node:net';
import { connect as tlsConnect, getCACertificates } from 'node:tls';
import type { DetailedPeerCertificate } from 'node:tls';
import { coerceError, waitAtMost } from '../plugin-api/index.ts';

/** One certificate of a presented chain, in public terms only. */
export interface PresentedCertificate {
  /** e.g. "CN=api.cyera.io, O=Cyera". */
  readonly subject: string;
  readonly issuer: string;
  readonly fingerprint256: string;
  readonly validTo: string;
  /** e.g. "DNS:api.cyera.io, DNS:*.cyera.io". */
  readonly subjectAltName: string | undefined;
}

/** What a server (or whatever answered in its place) presented. */
export interface PresentedChain {
  readonly leaf: PresentedCertificate;
  /** The last certificate of the chain sent: the one a trusted root would have to vouch for. */
  readonly top: PresentedCertificate;
  /** Whether any certificate of the chain is, or is signed by, one of Node's bundled roots. */
  readonly chainsToPublicRoot: boolean;
}

/** The outcome of a probe: the chain, or why it could not be read. */
export type ProbeOutcome =
  { readonly chain: PresentedChain } | { readonly chain?: undefined; readonly failure: string };

/** Where to probe, and within what bounds. */
export interface ProbeTarget {
  readonly url: URL;
  /** The proxy the request went through (see proxyFor), tunnelled with CONNECT. */
  readonly proxy: URL | undefined;
  /** CAs trusted for an https:// proxy itself. */
  readonly proxyCa: string[] | undefined;
  readonly timeoutMs: number;
  readonly signal: AbortSignal;
}

/**
 * Reads the certificate chain a host presents, for the error of a failed verification: a TLS
 * handshake that accepts any certificate, ended as soon as it completes. No request byte is
 * written and no credential is sent (not even the proxy's: a proxy that demands one ends the
 * probe). Bounded by `timeoutMs`; never throws.
 */
export async function probePresentedChain(target: ProbeTarget): Promise<ProbeOutcome> {
  const opened: Socket[] = [];
  try {
    const outcome = await waitAtMost(handshake(target, opened), target.timeoutMs, {
      signal: target.signal,
    });
    return outcome.timedOut
      ? { failure: `no handshake within ${target.timeoutMs} ms` }
      : { chain: outcome.value };
  } catch (error) {
    return { failure: failureOf(error) };
  } finally {
    opened.forEach((socket) => socket.destroy());
  }
}

async function handshake(target: ProbeTarget, opened: Socket[]): Promise<PresentedChain> {
  const host = target.url.hostname.replace(/^\[(.+)\]$/, '$1');
  const port = Number(target.url.port) || 443;
  const tunnel =
    target.proxy === undefined
      ? undefined
      : await openTunnel(target.proxy, target, `${target.url.hostname}:${port}`, opened);
  const socket = tlsConnect({
    host,
    port,
    ...(tunnel === undefined ? {} : { socket: tunnel }),
    rejectUnauthorized: false,
    ALPNProtocols: ['http/1.1'],
  });
  opened.push(socket);
  await once(socket, 'secureConnect');
  const peer = socket.getPeerCertificate(true);
  socket.destroy();
  return describeChain(chainOf(peer));
}

async function openTunnel(
  proxy: URL,
  target: ProbeTarget,
  authority: string,
  opened: Socket[],
): Promise<Socket> {
  const options = {
    host: proxy.hostname.replace(/^\[(.+)\]$/, '$1'),
    port: Number(proxy.port) || (proxy.protocol === 'https:' ? 443 : 80),
    method: 'CONNECT',
    path: authority,
    headers: { host: authority },
    agent: false as const,
  };
  const request: ClientRequest =
    proxy.protocol === 'https:'
      ? httpsRequest({
          ...options,
          ...(target.proxyCa === undefined ? {} : { ca: target.proxyCa }),
        })
      : httpRequest(options);
  request.end();
  const [response, socket] = (await once(request, 'connect')) as [
    { statusCode?: number; destroy(): void },
    Socket,
  ];
  opened.push(socket);
  if (response.statusCode !== 200) {
    throw new Error(`the proxy answered CONNECT with ${response.statusCode ?? 'no status'}`);
  }
  return socket;
}

function chainOf(peer: DetailedPeerCertificate): X509Certificate[] {
  const chain: X509Certificate[] = [];
  const seen = new Set<string>();
  // At the end of the chain sent, Node repeats a self-signed certificate or leaves it out.
  let current: Partial<DetailedPeerCertificate> | undefined = peer;
  while (current?.raw !== undefined && chain.length < 10) {
    const fingerprint = current.fingerprint256 ?? '';
    if (seen.has(fingerprint)) {
      break;
    }
    seen.add(fingerprint);
    chain.push(new X509Certificate(current.raw));
    current = current.issuerCertificate;
  }
  return chain;
}

function describeChain(chain: X509Certificate[]): PresentedChain {
  const [leaf, ...rest] = chain;
  if (leaf === undefined) {
    throw new Error('no certificate was presented');
  }
  return {
    leaf: describeCertificate(leaf),
    top: describeCertificate(rest.at(-1) ?? leaf),
    chainsToPublicRoot: chainsToPublicRoot(chain),
  };
}

/** Whether a chain reaches one of Node's bundled roots (not the system store nor extra CAs). */
export function chainsToPublicRoot(chain: readonly X509Certificate[]): boolean {
  const roots = getCACertificates('bundled').map((pem) => new X509Certificate(pem));
  return chain.some((certificate) =>
    roots.some(
      (root) =>
        root.fingerprint256 === certificate.fingerprint256 ||
        (certificate.checkIssued(root) && certificate.verify(root.publicKey)),
    ),
  );
}

function describeCertificate(certificate: X509Certificate): PresentedCertificate {
  return {
    subject: certificate.subject.split('\n').join(', '),
    issuer: certificate.issuer.split('\n').join(', '),
    fingerprint256: certificate.fingerprint256,
    validTo: certificate.validTo,
    subjectAltName: certificate.subjectAltName,
  };
}

function failureOf(error: unknown): string {
  const { code, message } = coerceError(error) as { code?: unknown; message: string };
  return typeof code === 'string' ? code : message;
}

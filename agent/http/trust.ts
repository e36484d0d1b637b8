import { getCACertificates } from 'node:tls';
import { trustedCaPems } from '../plugin-api/index.ts';

/** Where the certificate authorities an HTTP client trusts come from, as the operator set them. */
export interface CaSources {
  /** `http.caFile`, the path as configured. */
  readonly caFile?: string | undefined;
  /** Its certificates, already read and checked (see readCaBundle). */
  readonly caFilePem?: string | undefined;
  /** NODE_EXTRA_CA_CERTS as the process environment gave it; Node loads it at startup. */
  readonly nodeExtraCaCerts?: string | undefined;
}

/** The trust of one client: the `ca` option for TLS and the same in words for errors. */
export interface CaTrust {
  /** Undefined keeps Node's default set; otherwise that set plus the `http.caFile` bundle. */
  readonly ca: string[] | undefined;
  /** e.g. "Node's bundled roots (146), NODE_EXTRA_CA_CERTS=/etc/ssl/ca.pem (3), http.caFile unset". */
  readonly described: string;
  /** Whether `http.caFile` is set, so that an error never asks to set a key that is set. */
  readonly caFileSet: boolean;
}

/**
 * Combines every source of trust: Node's default set (its bundled roots, the certificates of
 * NODE_EXTRA_CA_CERTS and, with --use-system-ca, the system store) and the `http.caFile`
 * bundle. Nothing replaces anything else. `defaultPems` stands in for Node's default set in
 * tests, as NODE_EXTRA_CA_CERTS is only read when a process starts.
 */
export function caTrust(
  sources: CaSources,
  defaultPems: readonly string[] = getCACertificates('default'),
): CaTrust {
  return {
    ca: trustedCaPems([sources.caFilePem], defaultPems),
    described: describeTrust(sources, defaultPems.length),
    caFileSet: sources.caFile !== undefined,
  };
}

function describeTrust(sources: CaSources, defaultCount: number): string {
  const bundled = getCACertificates('bundled').length;
  const extra = getCACertificates('extra').length;
  const parts = [`Node's bundled roots (${bundled})`];
  if (defaultCount > bundled + extra) {
    parts.push(`the system store (${defaultCount - bundled - extra})`);
  }
  if (sources.nodeExtraCaCerts !== undefined && sources.nodeExtraCaCerts !== '') {
    const loaded = extra > 0 ? `${extra}` : 'none loaded: Node could not read it at startup';
    parts.push(`NODE_EXTRA_CA_CERTS=${sources.nodeExtraCaCerts} (${loaded})`);
  } else if (extra > 0) {
    // Loaded by Node at startup though the client was not told the path: still trusted.
    parts.push(`NODE_EXTRA_CA_CERTS (${extra})`);
  }
  if (sources.caFile === undefined) {
    parts.push('http.caFile unset');
  } else {
    parts.push(`http.caFile=${sources.caFile} (${countCertificates(sources.caFilePem)})`);
  }
  return parts.join(', ');
}

function countCertificates(pem: string | undefined): number {
  return pem?.match(/-----BEGIN CERTIFICATE-----/g)?.length ?? 0;
}

import { PerimeterError } from '../plugin-api/index.ts';
import type { PresentedChain, ProbeOutcome } from './peer-probe.ts';
import type { CaTrust } from './trust.ts';

/** What is known about a failed certificate verification besides Node's code. */
export interface TlsDiagnosis {
  /** What the host presented, read by a separate handshake; undefined when not probed. */
  readonly probe: ProbeOutcome | undefined;
  readonly trust: CaTrust;
}

/** The Helm value that mounts a CA bundle as `http.caFile`. */
const HELM_CA_VALUE = 'tls.extraCaBundle.configMap';

const EXPIRY_CODES = new Set(['CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID']);
const NAME_CODES = new Set(['ERR_TLS_CERT_ALTNAME_INVALID', 'HOSTNAME_MISMATCH']);

/**
 * The TLS_UNTRUSTED error: what was presented (subject, issuer, fingerprint: public facts),
 * whether it leads to a public root, what is trusted now and which setting adds a CA.
 */
export function certificateError(
  error: unknown,
  context: { readonly endpoint: string; readonly host: string; readonly attempt: number },
  tlsCode: string,
  diagnosis: TlsDiagnosis | undefined,
): PerimeterError {
  const { endpoint, host, attempt } = context;
  const chain = diagnosis?.probe?.chain;
  const sentences = [
    `The TLS certificate of ${host} was not trusted (${tlsCode}) for ${endpoint}.`,
    ...(diagnosis?.probe === undefined ? [] : [presentedSentence(diagnosis.probe)]),
    ...(chain === undefined ? [] : verdict(chain, tlsCode, host)),
    ...(diagnosis === undefined ? [] : [`Trusted now: ${diagnosis.trust.described}.`]),
  ];
  // An expired certificate or one for another name is not fixed by trusting another CA.
  if (!EXPIRY_CODES.has(tlsCode) && !NAME_CODES.has(tlsCode)) {
    sentences.push(
      diagnosis?.trust.caFileSet === true
        ? `To trust that CA, add it to the bundle at \`http.caFile\` (Helm: \`${HELM_CA_VALUE}\`).`
        : `To trust that CA, set \`http.caFile\` to a PEM bundle holding it (Helm: \`${HELM_CA_VALUE}\`).`,
    );
  }
  return new PerimeterError('TLS_UNTRUSTED', sentences.join(' '), {
    cause: error,
    context: {
      endpoint,
      host,
      attempt,
      tlsCode,
      ...(chain === undefined
        ? {}
        : {
            presentedSubject: chain.leaf.subject,
            presentedIssuer: chain.leaf.issuer,
            presentedFingerprint256: chain.leaf.fingerprint256,
            chainsToPublicRoot: chain.chainsToPublicRoot,
          }),
    },
  });
}

function presentedSentence(probe: ProbeOutcome): string {
  if (probe.chain === undefined) {
    return `The certificate it presented could not be read (${probe.failure}).`;
  }
  const { leaf, top } = probe.chain;
  const under =
    top.fingerprint256 === leaf.fingerprint256
      ? ''
      : `, in a chain up to "${top.subject}" issued by "${top.issuer}"`;
  return `It presented "${leaf.subject}" issued by "${leaf.issuer}" (SHA-256 ${leaf.fingerprint256})${under}.`;
}

function verdict(chain: PresentedChain, tlsCode: string, host: string): string[] {
  if (tlsCode === 'CERT_HAS_EXPIRED') {
    return [`It expired on ${chain.leaf.validTo}: the server's certificate must be renewed.`];
  }
  if (tlsCode === 'CERT_NOT_YET_VALID') {
    return ["It is not valid yet: check this machine's clock."];
  }
  if (NAME_CODES.has(tlsCode)) {
    const names = chain.leaf.subjectAltName ?? 'no subject alternative name';
    const hostname = host.replace(/:\d+$/, '');
    return [
      `It is valid for ${names}, not for ${hostname}: check the URL, or what answers in its place.`,
    ];
  }
  return [
    chain.chainsToPublicRoot
      ? "The chain leads to one of Node's bundled public roots: the server sent an incomplete or invalid chain."
      : "The chain does not lead to any of Node's bundled public roots: a TLS-inspecting proxy is likely (or the server uses a private CA).",
  ];
}

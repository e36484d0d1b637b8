import { getCACertificates } from 'node:tls';
import { describe, expect, it } from 'vitest';
import { testPki } from '../../test/helpers/tls.ts';
import { caTrust } from './trust.ts';

const pki = testPki();

describe('caTrust', () => {
  it("keeps Node's default set untouched when http.caFile is unset", () => {
    const trust = caTrust({ nodeExtraCaCerts: undefined });
    expect(trust.ca).toBeUndefined();
    expect(trust.caFileSet).toBe(false);
    expect(trust.described).toMatch(/^Node's bundled roots \(\d+\), .*http\.caFile unset$/);
  });

  it("adds the http.caFile bundle to Node's whole default set, never in its place", () => {
    const defaults = [...getCACertificates('default'), 'stand-in for NODE_EXTRA_CA_CERTS'];
    const trust = caTrust({ caFile: pki.caFile, caFilePem: pki.caPem }, defaults);
    expect(trust.ca).toEqual([...defaults, pki.caPem]);
    expect(trust.described).toContain(`http.caFile=${pki.caFile} (1)`);
  });
});

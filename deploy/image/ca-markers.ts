// Prints one line of base64 from each certificate of a CA bundle that the image's own root
// bundle does not hold: text that appears in a file only if that certificate was copied there.
// The image check searches the root filesystem and every layer for these lines.
// usage: node deploy/image/ca-markers.ts BUILD_CA_BUNDLE IMAGE_CA_BUNDLE
import { existsSync, readFileSync } from 'node:fs';

const PEM = /-----BEGIN CERTIFICATE-----([\s\S]*?)-----END CERTIFICATE-----/g;

function certificates(path: string): string[][] {
  const text = existsSync(path) ? readFileSync(path, 'utf8') : '';
  return [...text.matchAll(PEM)].map((match) =>
    (match[1] ?? '').split(/\s+/).filter((line) => line.length > 0),
  );
}

const [buildBundle, imageBundle] = process.argv.slice(2);
if (buildBundle === undefined || imageBundle === undefined) {
  throw new Error('usage: ca-markers.ts BUILD_CA_BUNDLE IMAGE_CA_BUNDLE');
}
const ownRoots = new Set(certificates(imageBundle).map((lines) => lines.join('')));
const markers = certificates(buildBundle)
  .filter((lines) => !ownRoots.has(lines.join('')) && lines.length > 2)
  .map((lines) => lines[Math.floor(lines.length / 2)] ?? '');
process.stdout.write([...new Set(markers)].map((line) => `${line}\n`).join(''));

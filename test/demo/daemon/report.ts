// What the daemon demo shows after the runs: what the catalog received per connector, its own
// record of every request (with the sha256 of each body), and the secret scan.
import { createHash } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import type { CatalogReceiver, RecordedRequest } from '../../fakes/catalog-receiver.ts';
import { findCanary } from '../../helpers/canary.ts';

/** A request body as the catalog reads it (gzip undone). */
export function plainBody(request: RecordedRequest): Buffer {
  return request.headers['content-encoding'] === 'gzip' && request.outcome !== 'dropped'
    ? gunzipSync(request.body)
    : request.body;
}

/** Asset counts by type for one run, from the batches the catalog received. */
export function assetsByType(catalog: CatalogReceiver, runId: string): Map<string, number> {
  const byType = new Map<string, number>();
  for (const request of catalog.requests.filter((r) => r.path.includes(`/${runId}/batches`))) {
    for (const line of plainBody(request).toString('utf8').split('\n')) {
      if (line !== '') {
        const { typeName } = JSON.parse(line) as { typeName: string };
        byType.set(typeName, (byType.get(typeName) ?? 0) + 1);
      }
    }
  }
  return byType;
}

/** Lines: `  demo-cyera    1,234 assets  complete  CyeraColumn 720, CyeraTable 60, …`. */
export function catalogLines(catalog: CatalogReceiver, runIds: readonly string[]): string[] {
  const width = Math.max(...runIds.map((id) => id.length));
  return runIds.map((runId) => {
    const byType = assetsByType(catalog, runId);
    const total = [...byType.values()].reduce((a, b) => a + b, 0);
    const complete = catalog.completes.some((call) => call.runId === runId);
    const types = [...byType].sort(([a], [b]) => a.localeCompare(b));
    const head = `  ${runId.padEnd(width)}  ${String(total).padStart(6)} assets  ${complete ? 'complete  ' : 'incomplete'}  `;
    return wrap(
      types.map(([type, count]) => `${type} ${String(count)}`),
      head,
      ' '.repeat(head.length),
    );
  });
}

/** Items joined by `, ` after `first`, continued on lines starting with `rest`, within 100 columns. */
function wrap(items: readonly string[], first: string, rest: string): string {
  const lines = [first];
  for (const [index, item] of items.entries()) {
    const text = index < items.length - 1 ? `${item},` : item;
    const last = lines.length - 1;
    const current = lines[last] ?? '';
    if (current.length + text.length + 1 > 100 && current.trim() !== '') {
      lines.push(`${rest}${text}`);
    } else {
      lines[last] =
        current.endsWith(' ') || current === '' ? `${current}${text}` : `${current} ${text}`;
    }
  }
  return lines.join('\n');
}

/** The catalog's record of every request: method, path, status, bytes on the wire, sha256. */
export function outboundRecord(catalog: CatalogReceiver): string[] {
  return catalog.requests.map(
    (request) =>
      `${request.method.padEnd(5)} ${String(request.outcome).padEnd(7)} ${String(request.body.length).padStart(7)} B  sha256:${createHash('sha256').update(request.body).digest('hex').slice(0, 16)}  ${request.path}`,
  );
}

/**
 * Looks for every canary in every captured text except where that credential belongs (the
 * catalog token in the catalog's Authorization header, the agent token in the control plane's).
 * Returns the findings as `credential in source` strings; empty when nothing leaked.
 */
export function scanForSecrets(
  canaries: Record<string, readonly string[]>,
  captured: Record<string, string | Buffer>,
  belongsIn: Readonly<Record<string, string>>,
): string[] {
  const findings: string[] = [];
  for (const [name, values] of Object.entries(canaries)) {
    const where = Object.fromEntries(
      Object.entries(captured).filter(([source]) => source !== belongsIn[name]),
    );
    for (const value of values) {
      findings.push(...findCanary(value, where).map((source) => `${name} in ${source}`));
    }
  }
  return [...new Set(findings)];
}

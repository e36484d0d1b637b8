// The leak scan of the proof suites: everything a suite's world saw, as named texts, and a scan
// of them for every canary credential in every form it could leak (test/helpers/canary.ts).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { Redis } from 'ioredis';
import type { AgentProcess } from '../e2e/support/agent.ts';
import type { RecordedRequest as CatalogRequest } from '../fakes/catalog-receiver.ts';
import type { RecordedRequest as ControlPlaneRequest } from '../fakes/control-plane/server.ts';
import { canaryForms } from '../helpers/canary.ts';
import { dumpKeys } from '../integration/support/redis.ts';

/** Captured texts by name, e.g. `redis:<key>`, `catalog#12`, `agent/logs`. */
export type Captured = Record<string, string | Buffer>;

/** What a world exposes to the capture. */
export interface CaptureSources {
  readonly agents: readonly AgentProcess[];
  readonly redis: Redis;
  readonly prefix: string;
  readonly controlPlane: readonly ControlPlaneRequest[];
  readonly catalog: readonly CatalogRequest[];
  /** The bearer token each service is owed: only that exact header is left out of its calls. */
  readonly ownTokens: { readonly controlPlane: string; readonly catalog: string };
  /** Folders the agent wrote (output, review area, ledger file), read whole and recursively. */
  readonly dirs: readonly string[];
  /** Anything else seen, by name: error messages, command output. */
  readonly extra?: Readonly<Record<string, string>>;
}

/**
 * Collects everything: each agent's stdout and stderr, `/status`, `/metrics` and `/readyz`, every
 * Redis key and value under the prefix, every request to the control plane and the catalog
 * (method, path, headers, body, batches unzipped), and every file under `dirs`. The bearer token
 * a call carries to its own service is that token's purpose, so an `authorization` header that is
 * exactly `Bearer <its own token>` is left out; any other header, or token, stays in.
 */
export async function captureWorld(sources: CaptureSources): Promise<Captured> {
  const captured: Captured = { ...sources.extra };
  for (const agent of sources.agents) {
    if (agent.child.exitCode === null && agent.child.signalCode === null) {
      for (const path of ['/status', '/metrics', '/readyz']) {
        captured[`${agent.name}${path}`] = (await agent.get(path)).text;
      }
    }
    captured[`${agent.name}/logs`] = agent.output();
  }
  for (const [key, value] of Object.entries(await dumpKeys(sources.redis, sources.prefix))) {
    captured[`redis:${key}`] = `${key}\n${value}`;
  }
  sources.controlPlane.forEach((request, index) => {
    captured[`control-plane#${index}`] = requestText(
      request,
      request.body,
      sources.ownTokens.controlPlane,
    );
  });
  sources.catalog.forEach((request, index) => {
    const gzipped = request.headers['content-encoding'] === 'gzip' && request.outcome !== 'dropped';
    captured[`catalog#${index}`] = requestText(
      request,
      gzipped ? gunzipSync(request.body) : request.body,
      sources.ownTokens.catalog,
    );
  });
  for (const dir of sources.dirs) {
    for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
      if (entry.isFile()) {
        const path = join(entry.parentPath, entry.name);
        captured[`file:${path}`] = readFileSync(path);
      }
    }
  }
  return captured;
}

/** The result of a scan: how much was looked at, and where each canary was found. */
export interface LeakScan {
  readonly canaries: number;
  readonly captures: number;
  readonly bytes: number;
  /** `<canary name> in <capture name>` for every find; empty when nothing leaked. */
  readonly leaks: readonly string[];
}

/** Looks for every canary, in every encoded form, in every capture. */
export function scanForCanaries(
  canaries: Readonly<Record<string, readonly string[]>>,
  captured: Captured,
): LeakScan {
  const texts = Object.entries(captured).map(
    ([name, text]) => [name, typeof text === 'string' ? text : text.toString('latin1')] as const,
  );
  const values = Object.entries(canaries).flatMap(([name, list]) =>
    list.map((value) => ({ name, forms: canaryForms(value) })),
  );
  const leaks: string[] = [];
  for (const { name, forms } of values) {
    for (const [capture, text] of texts) {
      if (forms.some((form) => text.includes(form))) {
        leaks.push(`${name} in ${capture}`);
      }
    }
  }
  return {
    canaries: values.length,
    captures: texts.length,
    bytes: texts.reduce((sum, [, text]) => sum + text.length, 0),
    leaks,
  };
}

function requestText(
  request: {
    readonly method: string;
    readonly path: string;
    readonly headers: Readonly<Record<string, string>>;
  },
  body: Buffer,
  ownToken: string,
): Buffer {
  const { authorization, ...rest } = request.headers;
  const headers = authorization === `Bearer ${ownToken}` ? rest : request.headers;
  return Buffer.concat([
    Buffer.from(`${request.method} ${request.path}\n${JSON.stringify(headers)}\n`),
    body,
  ]);
}

import { loadConfig } from '../../agent/config/load.ts';
import type { Registry } from '../../agent/config/load.ts';
import { createMetrics } from '../../agent/metrics/metrics.ts';
import { assembleRuntime } from '../../agent/daemon/assemble.ts';
import type { Runtime } from '../../agent/daemon/assemble.ts';
import type { RunSpec } from '../../agent/run/types.ts';
import { envStore } from '../../secrets/env/index.ts';
import { fileStore } from '../../secrets/file/index.ts';
import { startCatalogReceiver } from '../fakes/catalog-receiver.ts';
import type { CatalogReceiver } from '../fakes/catalog-receiver.ts';
import { fixtureConnector } from '../fakes/fixture/connector.ts';
import { startFixtureSource } from '../fakes/fixture/source.ts';
import type { FixtureSource } from '../fakes/fixture/source.ts';
import { captureLogs } from './capture-logs.ts';
import type { CapturedLogs } from './capture-logs.ts';
import { makeCanary } from './canary.ts';

/** A source, a catalog and an in-process runtime wired together, for run-level tests. */
export interface RunWorld {
  readonly source: FixtureSource;
  readonly receiver: CatalogReceiver;
  readonly runtime: Runtime;
  readonly logs: CapturedLogs;
  /** The live environment the env store reads (tests rotate secrets through it). */
  readonly env: Record<string, string | undefined>;
  /** The secret the source accepts, placed in `FIXTURE_SECRET`. */
  readonly canary: string;
  /** A RunSpec for the fixture source; `params` and settings may be overridden. */
  spec(overrides?: {
    runId?: string;
    params?: Record<string, unknown>;
    settings?: Record<string, unknown>;
  }): RunSpec;
  close(): Promise<void>;
}

export const fixtureRegistry: Registry = {
  connectors: [fixtureConnector],
  stores: [envStore, fileStore],
};

/** Starts the world; `config` is extra YAML-equivalent config merged into the defaults. */
export async function startRunWorld(options: {
  items: number;
  catalog?: Record<string, unknown>;
  output?: string;
}): Promise<RunWorld> {
  const canary = makeCanary('fixture-secret');
  const source = await startFixtureSource({ items: options.items, secret: canary });
  const receiver = await startCatalogReceiver({});
  const env: Record<string, string | undefined> = { FIXTURE_SECRET: canary };
  const logs = captureLogs();
  const config = loadConfig(
    {
      env: {},
      file: {
        path: 'test.yaml',
        text: JSON.stringify({
          catalog: {
            url: receiver.url,
            retry: { baseDelayMs: 5, maxDelayMs: 50 },
            ...options.catalog,
          },
          http: { retry: { baseDelayMs: 5, maxDelayMs: 50 } },
          policy: { connectors: { fixture: { allowHosts: [new URL(source.url).host] } } },
        }),
      },
    },
    fixtureRegistry,
  );
  const runtime = assembleRuntime({
    config,
    registry: fixtureRegistry,
    logger: logs.logger,
    redactor: logs.redactor,
    metrics: createMetrics(),
    env,
    ...(options.output === undefined
      ? {}
      : { output: { kind: 'directory' as const, dir: options.output } }),
  });
  let counter = 0;
  return {
    source,
    receiver,
    runtime,
    logs,
    env,
    canary,
    spec: (overrides = {}) => ({
      runId: overrides.runId ?? `run-${String((counter += 1))}`,
      operation: 'extract',
      params: (overrides.params ?? {}) as RunSpec['params'],
      origin: 'local',
      connection: {
        connector: 'fixture',
        config: {
          baseUrl: source.url,
          pageSize: 100,
          credentials: { secret: 'env://FIXTURE_SECRET' },
          ...overrides.settings,
        },
      },
    }),
    close: async () => {
      await runtime.close();
      await Promise.all([source.close(), receiver.close()]);
    },
  };
}

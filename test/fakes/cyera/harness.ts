import { createHttpClient } from '../../../agent/http/client.ts';
import { HttpSettingsSchema } from '../../../agent/http/settings.ts';
import type { ClosableHttpClient } from '../../../agent/http/types.ts';
import { SecretValue } from '../../../agent/plugin-api/index.ts';
import type { Asset, ConnectorEvent, JsonValue } from '../../../agent/plugin-api/index.ts';
import { connector } from '../../../connectors/cyera/index.ts';
import { CyeraConfigSchema, CyeraParamsSchema } from '../../../connectors/cyera/config.ts';
import type { CyeraContext } from '../../../connectors/cyera/extract.ts';
import { captureLogs } from '../../helpers/capture-logs.ts';
import type { CapturedLogs } from '../../helpers/capture-logs.ts';
import { startCyeraSimulator } from './simulator.ts';
import type { CyeraSimulator, CyeraSimulatorOptions } from './simulator.ts';

/** A simulator, the real HTTP client bound to it, and a way to build connector contexts. */
export interface CyeraHarness {
  readonly simulator: CyeraSimulator;
  readonly http: ClosableHttpClient;
  readonly logs: CapturedLogs;
  /** A context as the runtime would build it; `config` and `params` override the defaults. */
  context(overrides?: ContextOverrides): CyeraContext;
  close(): Promise<void>;
}

export interface ContextOverrides {
  readonly config?: Record<string, unknown>;
  readonly params?: Record<string, unknown>;
  readonly cursor?: JsonValue;
  readonly signal?: AbortSignal;
  /** The secret sent at login. @default the simulator's */
  readonly secret?: string;
}

/** Starts a simulator and a real HTTP client with short retry waits, for the connector tests. */
export async function startCyeraHarness(
  options: CyeraSimulatorOptions = {},
): Promise<CyeraHarness> {
  const simulator = await startCyeraSimulator(options);
  const logs = captureLogs();
  const http = createHttpClient({
    policy: { allowedHosts: [simulator.host], allowedCalls: connector.authCalls },
    settings: HttpSettingsSchema.parse({
      retry: { maxAttempts: 3, baseDelayMs: 5, maxDelayMs: 20, maxRetryAfterMs: 5_000 },
    }),
    redactor: logs.redactor,
    logger: logs.logger,
    errorDomain: 'source',
    userAgent: 'perimeter/test',
  });
  const context = (overrides: ContextOverrides = {}): CyeraContext => {
    const secret = overrides.secret ?? simulator.secret;
    logs.redactor.add(secret);
    return {
      config: CyeraConfigSchema.parse({
        baseUrl: simulator.url,
        tenant: 'acme',
        credentials: {
          clientId: new SecretValue(simulator.clientId),
          secret: new SecretValue(secret),
        },
        stream: { retryDelayMs: 5, maxRetryDelayMs: 50 },
        ...overrides.config,
      }),
      params: CyeraParamsSchema.parse(overrides.params ?? {}),
      signal: overrides.signal ?? new AbortController().signal,
      logger: logs.logger.child({ component: 'connector', connector: 'cyera', runId: 'run-1' }),
      http,
      cursor: overrides.cursor,
      runId: 'run-1',
    };
  };
  return {
    simulator,
    http,
    logs,
    context,
    close: async () => {
      await http.close();
      await simulator.close();
    },
  };
}

/** What a read yielded: the assets and the checkpoints, in order. */
export interface ReadResult {
  readonly assets: Asset[];
  readonly checkpoints: JsonValue[];
  readonly events: ConnectorEvent[];
}

/** Runs `read()` to the end and keeps everything (for small tenants only). */
export async function readAll(ctx: CyeraContext): Promise<ReadResult> {
  const events: ConnectorEvent[] = [];
  for await (const event of connector.read(ctx)) {
    events.push(event);
  }
  return {
    events,
    assets: events.flatMap((e) => (e.type === 'asset' ? [e.asset] : [])),
    checkpoints: events.flatMap((e) => (e.type === 'checkpoint' ? [e.cursor] : [])),
  };
}

/** Counts assets by type name. */
export function countByType(assets: readonly Asset[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const asset of assets) {
    counts[asset.typeName] = (counts[asset.typeName] ?? 0) + 1;
  }
  return counts;
}

import type { ClosableHttpClient } from '../../../agent/http/types.ts';
import type { JsonValue } from '../../../agent/plugin-api/index.ts';
import { connector } from '../../../connectors/cyera/index.ts';
import { CyeraConfigSchema, CyeraParamsSchema } from '../../../connectors/cyera/config.ts';
import type { CyeraContext } from '../../../connectors/cyera/extract.ts';
import { captureLogs } from '../../helpers/capture-logs.ts';
import type { CapturedLogs } from '../../helpers/capture-logs.ts';
import {
  collectEvents,
  connectorLogger,
  sourceHttpClient,
  wrapCredentials,
} from '../../helpers/connector-harness.ts';
import type { ReadResult } from '../../helpers/connector-harness.ts';
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
  const http = sourceHttpClient({ connector, hosts: [simulator.host], logs });
  const context = (overrides: ContextOverrides = {}): CyeraContext => {
    const secret = overrides.secret ?? simulator.secret;
    return {
      config: CyeraConfigSchema.parse({
        baseUrl: simulator.url,
        tenant: 'acme',
        credentials: wrapCredentials({ clientId: simulator.clientId, secret }, logs),
        stream: { retryDelayMs: 5, maxRetryDelayMs: 50 },
        ...overrides.config,
      }),
      params: CyeraParamsSchema.parse(overrides.params ?? {}),
      signal: overrides.signal ?? new AbortController().signal,
      logger: connectorLogger(logs, 'cyera'),
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

export type { ReadResult } from '../../helpers/connector-harness.ts';
export { countByType } from '../../helpers/connector-harness.ts';

/** Runs `read()` to the end and keeps everything (for small tenants only). */
export function readAll(ctx: CyeraContext): Promise<ReadResult> {
  return collectEvents(connector.read(ctx));
}

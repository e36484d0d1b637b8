import type { Logger as PinoLogger } from 'pino';
import { PerimeterError } from '../plugin-api/index.ts';
import { buildHealthApp } from './app.ts';
import type { HealthDeps } from './app.ts';
import type { HealthSettings } from './settings.ts';

/** The listening health server. */
export interface HealthServer {
  /** The port actually bound (useful with `health.port: 0`). */
  readonly port: number;
  /** Stops listening (open keep-alive connections are closed). Idempotent. */
  close(): Promise<void>;
}

/** Starts the health server on its own port. A port in use is CONFIG_INVALID naming `health.port`. */
export async function startHealthServer(
  deps: HealthDeps,
  settings: HealthSettings,
  logger: PinoLogger,
): Promise<HealthServer> {
  const app = buildHealthApp(deps);
  try {
    await app.listen({ port: settings.port, host: settings.host });
  } catch (error) {
    await app.close();
    throw new PerimeterError(
      'CONFIG_INVALID',
      `health.port: the health server cannot listen on ${settings.host}:${settings.port}; pick a free port`,
      {
        cause: error,
        context: { problems: ['health.port'], port: settings.port },
      },
    );
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : settings.port;
  logger.info({ host: settings.host, port }, 'Health server listening');
  let closing: Promise<void> | undefined;
  return {
    port,
    close: () => {
      closing ??= app.close();
      return closing;
    },
  };
}

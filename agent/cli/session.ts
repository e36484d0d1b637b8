import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Logger as PinoLogger } from 'pino';
import { CONFIG_FILE_ENV } from '../config/env.ts';
import { checkConfig, loadConfig } from '../config/load.ts';
import type { ConfigSources, Registry } from '../config/load.ts';
import type { AgentConfig } from '../config/schema.ts';
import { isHostAllowed } from '../http/policy.ts';
import { createLogger } from '../logging/logger.ts';
import { Redactor } from '../logging/redactor.ts';
import { createMetrics } from '../metrics/metrics.ts';
import type { Metrics } from '../metrics/metrics.ts';
import { PerimeterError } from '../plugin-api/index.ts';
import { assembleRuntime } from '../daemon/assemble.ts';
import type { Runtime, RuntimeOptions } from '../daemon/assemble.ts';
import { permittedHosts } from '../run/prepare.ts';
import type { CliIo } from './io.ts';

/** Everything a command works with, built from config in one place. */
export interface Session {
  readonly config: AgentConfig;
  readonly configPath: string | undefined;
  readonly logger: PinoLogger;
  readonly redactor: Redactor;
  readonly metrics: Metrics;
  readonly runtime: Runtime;
}

/**
 * Loads and checks the configuration (file named by --config or PERIMETER_CONFIG, environment
 * on top), then assembles the runtime. Any problem throws CONFIG_INVALID listing all of them.
 */
export async function openSession(
  io: CliIo,
  registry: Registry,
  options: {
    readonly configPath?: string;
    readonly output?: RuntimeOptions['output'];
    readonly logLevel?: string;
    /** Add Node's process metrics (CPU, memory, GC) to the registry: the daemon's /metrics. */
    readonly processMetrics?: boolean;
  },
): Promise<Session> {
  const configPath = options.configPath ?? io.env[CONFIG_FILE_ENV];
  const sources: ConfigSources = {
    env: io.env,
    ...(configPath ? { file: await readConfigFile(io, configPath) } : {}),
  };
  const config = loadConfig(sources, registry);
  const redactor = new Redactor();
  const level = (options.logLevel ?? config.agent.logLevel) as AgentConfig['agent']['logLevel'];
  const logger = createLogger({ level, redactor, destination: io.logDestination });
  const metrics = createMetrics({ defaults: options.processMetrics === true });
  const runtime = assembleRuntime({
    config,
    registry,
    logger,
    redactor,
    metrics,
    env: io.env,
    ...(options.output === undefined ? {} : { output: options.output }),
  });
  try {
    checkConfig(config, registry, {
      checkRef: (ref) => {
        runtime.resolver.check(ref);
      },
      hostCheckerFor: (connector) => {
        const hosts = permittedHosts(connector, config);
        return (url) => isHostAllowed(hosts, url);
      },
    });
  } catch (error) {
    await runtime.close();
    throw error;
  }
  return { config, configPath, logger, redactor, metrics, runtime };
}

async function readConfigFile(io: CliIo, path: string): Promise<{ path: string; text: string }> {
  try {
    return { path, text: await readFile(resolve(io.cwd, path), 'utf8') };
  } catch (error) {
    throw new PerimeterError(
      'CONFIG_INVALID',
      `The config file ${path} cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'}); check the path given by --config or ${CONFIG_FILE_ENV}`,
      {
        cause: error,
        context: { problems: [path] },
      },
    );
  }
}

/** Reads a job file given on the command line; a missing file is bad input. */
export async function readJobFile(io: CliIo, path: string): Promise<string> {
  try {
    return await readFile(resolve(io.cwd, path), 'utf8');
  } catch (error) {
    throw new PerimeterError(
      'JOB_INVALID',
      `The job file ${path} cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'}); check the path`,
      {
        cause: error,
        context: { problems: [path] },
      },
    );
  }
}

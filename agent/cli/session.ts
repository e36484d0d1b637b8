import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Logger as PinoLogger } from 'pino';
import { CONFIG_FILE_ENV } from '../config/env.ts';
import { configProblems, loadConfig, readConfig } from '../config/load.ts';
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
import { permittedHosts, runProblems } from '../run/prepare.ts';
import { DOCS, problemsError, problemsUnder } from '../run/problems.ts';
import type { ConfigProblem } from '../run/problems.ts';
import type { RunSpec } from '../run/types.ts';
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

/** A job file read for a command, as far as it parsed (agent/config/job-file.ts). */
export interface SessionJob {
  readonly path: string;
  readonly spec: RunSpec | undefined;
  readonly problems: readonly ConfigProblem[];
}

/**
 * Loads and checks the configuration (file named by --config or PERIMETER_CONFIG, environment
 * on top) and the command's job file, then assembles the runtime. Every problem of the
 * environment, the config file and the job file is thrown at once: CONFIG_INVALID, or
 * JOB_INVALID when only the job file has problems.
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
    /** `queue.isolation: auto` runs in capped threads: the daemon's worker (RuntimeOptions). */
    readonly isolateRuns?: boolean;
    readonly job?: SessionJob;
  },
): Promise<Session> {
  const configPath = options.configPath ?? io.env[CONFIG_FILE_ENV];
  const file = configPath ? await readConfigFile(io, configPath) : undefined;
  const reading = readConfig(
    {
      env: io.env,
      ...(file?.text === undefined ? {} : { file: { path: file.path, text: file.text } }),
    },
    registry,
  );
  const report = new ProblemReport(options.job);
  report.add('config', [...(file?.problems ?? []), ...reading.problems]);
  // A config that failed only in sections no check reads is still checked, then refused.
  const config = reading.config ?? reading.checkable;
  if (config === undefined || (file?.text === undefined && configPath)) {
    throw report.error();
  }
  const redactor = new Redactor();
  const level = (options.logLevel ?? config.agent.logLevel) as AgentConfig['agent']['logLevel'];
  const logger = createLogger({ level, redactor, destination: io.logDestination });
  const metrics = createMetrics({ defaults: options.processMetrics === true });
  const pushes = options.output === undefined || options.output.kind === 'catalog';
  // A catalog section that failed the schema is reported as such, not as missing.
  const requireCatalog = pushes && !reading.omitted.includes('catalog');
  const runtime = assembleRuntime({
    config,
    registry,
    logger,
    redactor,
    metrics,
    env: io.env,
    isolateRuns: options.isolateRuns === true,
    // Without a catalog the session is refused below, with the catalog among the problems.
    ...(options.output === undefined ? {} : { output: options.output }),
    ...(pushes && config.catalog === undefined ? { output: { kind: 'none' } } : {}),
  });
  const checkRef = (ref: string, allowRefs?: readonly string[]): void => {
    runtime.resolver.check(ref, allowRefs === undefined ? {} : { allowRefs });
  };
  report.add(
    'config',
    configProblems(config, registry, {
      checkRef,
      requireCatalog,
      hostCheckerFor: (connector) => {
        const hosts = permittedHosts(connector, config);
        return (url) => isHostAllowed(hosts, url);
      },
    }),
  );
  if (options.job?.spec !== undefined) {
    const deps = { config, connectors: runtime.connectors, checkRef };
    report.add('job', runProblems(options.job.spec, deps));
  }
  if (report.count() > 0 || reading.config === undefined) {
    await runtime.close();
    throw report.error();
  }
  return { config, configPath, logger, redactor, metrics, runtime };
}

/**
 * The configuration alone (file named by --config or PERIMETER_CONFIG, environment on top), for
 * commands that only read a setting; every problem is thrown at once as CONFIG_INVALID.
 */
export async function loadSessionConfig(
  io: CliIo,
  registry: Registry,
  path: string | undefined,
): Promise<{ config: AgentConfig; configPath: string | undefined }> {
  const configPath = path ?? io.env[CONFIG_FILE_ENV];
  const file = configPath ? await readConfigFile(io, configPath) : undefined;
  if (file !== undefined && file.text === undefined) {
    throw problemsError('CONFIG_INVALID', 'The configuration', file.problems);
  }
  const sources: ConfigSources = {
    env: io.env,
    ...(file?.text === undefined ? {} : { file: { path: file.path, text: file.text } }),
  };
  return { config: loadConfig(sources, registry), configPath };
}

/** Problems of the configuration and of the job file, listed once each, in one error. */
class ProblemReport {
  readonly #job: SessionJob | undefined;
  readonly #config: ConfigProblem[] = [];
  readonly #jobProblems: ConfigProblem[] = [];
  readonly #seen = new Set<string>();

  constructor(job: SessionJob | undefined) {
    this.#job = job;
    this.add('job', job?.problems ?? []);
  }

  add(where: 'config' | 'job', problems: readonly ConfigProblem[]): void {
    for (const problem of problems) {
      // A job naming a config connection meets that connection's problems again: list them once.
      const key = `${problem.path}\u0000${problem.message}`;
      if (!this.#seen.has(key)) {
        this.#seen.add(key);
        (where === 'config' ? this.#config : this.#jobProblems).push(problem);
      }
    }
  }

  count(): number {
    return this.#config.length + this.#jobProblems.length;
  }

  error(): PerimeterError {
    const jobPath = this.#job?.path ?? 'job';
    const fromJob = problemsUnder(jobPath, this.#jobProblems);
    if (this.#config.length === 0) {
      return problemsError('JOB_INVALID', `The job file ${jobPath}`, this.#jobProblems);
    }
    const what =
      fromJob.length === 0 ? 'The configuration' : `The configuration and the job file ${jobPath}`;
    return problemsError('CONFIG_INVALID', what, [...this.#config, ...fromJob]);
  }
}

/** The config file's text, or the problem that it cannot be read. */
async function readConfigFile(
  io: CliIo,
  path: string,
): Promise<{ path: string; text?: string; problems: ConfigProblem[] }> {
  try {
    return { path, text: await readFile(resolve(io.cwd, path), 'utf8'), problems: [] };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'error';
    return {
      path,
      problems: [
        {
          path,
          message: `the config file cannot be read (${code}); check the path given by --config or ${CONFIG_FILE_ENV} and that the agent may read it`,
          see: DOCS.configuration,
        },
      ],
    };
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

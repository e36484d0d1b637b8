import { parseJobFile } from '../config/job-file.ts';
import type { Registry } from '../config/load.ts';
import type { ErrorDomain } from '../http/types.ts';
import type { HttpMethod } from '../plugin-api/index.ts';
import type { PreparedRun } from '../run/prepare.ts';
import type { RunSpec } from '../run/types.ts';
import type { CliArgs } from './args.ts';
import { authLines, ownSecretLines, redisLine } from './check-agent.ts';
import { failure, formatLine } from './check-line.ts';
import type { CheckLine } from './check-line.ts';
import type { CliIo } from './io.ts';
import { commandLogLevel, createOutput } from './output.ts';
import { openSession, readJobFile } from './session.ts';
import type { Session } from './session.ts';

const ANY_STATUS = Array.from({ length: 500 }, (_, i) => i + 100);

/**
 * `perimeter check [JOB_FILE]`: the configuration, every secret reference of the agent and its
 * connections (resolved, never printed), every store profile, every host's reachability, the
 * catalog and control plane accepting the agent's tokens, Redis and, with a job file, the
 * connector's own credential check. One line each (WARN passes); exit 1 if any failed, 2 for
 * bad config or job file.
 */
export async function checkCommand(args: CliArgs, io: CliIo, registry: Registry): Promise<number> {
  const lines: CheckLine[] = [];
  const output = createOutput(io, args);
  const print = (): void => {
    if (output.json) {
      output.data(lines);
    } else {
      io.stdout(lines.map(formatLine).join(''));
    }
  };
  let session: Session;
  try {
    session = await openSession(io, registry, {
      ...(args.config === undefined ? {} : { configPath: args.config }),
      output: { kind: 'none' },
      logLevel: commandLogLevel(args),
    });
  } catch (error) {
    lines.push(
      failure('config', args.config ?? io.env['PERIMETER_CONFIG'] ?? '(environment)', error),
    );
    print();
    return 2;
  }
  try {
    lines.push(configLine(session));
    const jobPath = args.positionals[0];
    const runs = await runsToCheck(session, io, jobPath, lines);
    if (runs === undefined) {
      print();
      return 2;
    }
    const own = await ownSecretLines(session, io.signal);
    lines.push(...own.lines);
    for (const run of runs) {
      lines.push(...(await secretLines(session, run, io.signal)));
    }
    lines.push(...(await storeLines(session, io.signal)));
    lines.push(...(await reachLines(session, runs, io.signal)));
    lines.push(...(await authLines(session, own.values, io.signal)));
    lines.push(await redisLine(session, io.signal));
    if (jobPath !== undefined && runs[0] !== undefined) {
      lines.push(await sourceLine(session, runs[0].spec, io.signal));
    }
    print();
    return lines.every((line) => line.ok) ? 0 : 1;
  } finally {
    await session.runtime.close();
  }
}

function configLine(session: Session): CheckLine {
  const { config } = session;
  const counts = `${Object.keys(config.connections).length} connections, ${Object.keys(config.secretStores).length} secret store profiles, ${config.jobs.length} jobs`;
  return {
    ok: true,
    check: 'config',
    subject: session.configPath ?? '(environment)',
    detail: counts,
  };
}

async function runsToCheck(
  session: Session,
  io: CliIo,
  jobPath: string | undefined,
  lines: CheckLine[],
): Promise<PreparedRun[] | undefined> {
  const specs: RunSpec[] = [];
  if (jobPath !== undefined) {
    try {
      specs.push({ ...parseJobFile(jobPath, await readJobFile(io, jobPath)), operation: 'check' });
    } catch (error) {
      lines.push(failure('job', jobPath, error));
      return undefined;
    }
  } else {
    for (const id of Object.keys(session.config.connections)) {
      specs.push({
        runId: `check-${id}`,
        operation: 'check',
        connectionId: id,
        params: {},
        origin: 'local',
      });
    }
  }
  const prepared: PreparedRun[] = [];
  for (const spec of specs) {
    try {
      prepared.push(session.runtime.prepare(spec));
    } catch (error) {
      lines.push(failure('job', spec.connectionId ?? jobPath ?? spec.runId, error));
      if (jobPath !== undefined) {
        return undefined;
      }
    }
  }
  return prepared;
}

async function secretLines(
  session: Session,
  run: PreparedRun,
  signal: AbortSignal,
): Promise<CheckLine[]> {
  const base =
    run.spec.connectionId === undefined ? 'connection' : `connections.${run.spec.connectionId}`;
  const lines: CheckLine[] = [];
  for (const [name, ref] of Object.entries(run.credentialRefs)) {
    const subject = `${base}.credentials.${name}`;
    try {
      const info = session.runtime.resolver.check(
        ref,
        run.allowRefs === undefined ? {} : { allowRefs: run.allowRefs },
      );
      await session.runtime.resolver.resolve(ref, {
        signal,
        ...(run.allowRefs === undefined ? {} : { allowRefs: run.allowRefs }),
      });
      lines.push({
        ok: true,
        check: 'secret',
        subject,
        detail: `resolvable: ${info.scheme}://${info.locator} (profile ${info.profile})`,
      });
    } catch (error) {
      lines.push(failure('secret', subject, error));
    }
  }
  return lines;
}

async function storeLines(session: Session, signal: AbortSignal): Promise<CheckLine[]> {
  const lines: CheckLine[] = [];
  for (const profile of session.runtime.resolver.listProfiles()) {
    try {
      await session.runtime.resolver.probe(profile.name, { signal });
      lines.push({
        ok: true,
        check: 'store',
        subject: profile.name,
        detail: `${profile.scheme} reachable`,
      });
    } catch (error) {
      lines.push(failure('store', profile.name, error));
    }
  }
  return lines;
}

/** Where a reach line goes: the catalog, the control plane, or one endpoint of a connection. */
interface ReachTarget {
  readonly url: URL;
  readonly subject: string;
  readonly errorDomain: ErrorDomain;
  readonly run?: PreparedRun;
}

async function reachLines(
  session: Session,
  runs: readonly PreparedRun[],
  signal: AbortSignal,
): Promise<CheckLine[]> {
  const targets = new Map<string, ReachTarget>();
  for (const [name, setting] of [
    ['catalog', session.config.catalog],
    ['controlPlane', session.config.controlPlane],
  ] as const) {
    if (setting !== undefined) {
      const url = new URL(setting.url);
      const errorDomain = name === 'catalog' ? 'sink' : 'controlPlane';
      targets.set(url.origin, { url, subject: url.origin, errorDomain });
    }
  }
  for (const run of runs) {
    for (const endpoint of run.endpoints) {
      const url = new URL(endpoint.url);
      const where =
        run.spec.connectionId === undefined ? 'connection' : `connections.${run.spec.connectionId}`;
      const subject = `${url.origin} (${endpoint.role} endpoint of ${where})`;
      targets.set(subject, { url, subject, errorDomain: 'source', run });
    }
  }
  const lines: CheckLine[] = [];
  for (const target of targets.values()) {
    lines.push(await reach(session, target, signal));
  }
  return lines;
}

async function reach(
  session: Session,
  target: ReachTarget,
  signal: AbortSignal,
): Promise<CheckLine> {
  const { url, subject, errorDomain, run } = target;
  const policy = run?.policy ?? { allowedHosts: [url.host], allowedCalls: [] };
  const client = session.runtime.httpClient(policy, { errorDomain });
  try {
    const method: HttpMethod = 'HEAD';
    const response = await client.request({
      method,
      url: url.origin,
      signal,
      retry: false,
      acceptStatus: ANY_STATUS,
      endpoint: 'HEAD /',
    });
    await response.dump();
    return { ok: true, check: 'reach', subject, detail: `reachable (HTTP ${response.status})` };
  } catch (error) {
    return failure('reach', subject, error);
  } finally {
    await client.close();
  }
}

async function sourceLine(
  session: Session,
  spec: RunSpec,
  signal: AbortSignal,
): Promise<CheckLine> {
  try {
    const result = await session.runtime.executor.execute(
      { ...spec, operation: 'check' },
      { signal },
    );
    return {
      ok: true,
      check: 'source',
      subject: result.connector,
      detail: result.check?.summary ?? 'credentials accepted',
    };
  } catch (error) {
    return failure('source', spec.connection?.connector ?? spec.connectionId ?? spec.runId, error);
  }
}

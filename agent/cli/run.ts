import { resolve } from 'node:path';
import { inspectJobFile, parseJobFile } from '../config/job-file.ts';
import { PerimeterError } from '../plugin-api/index.ts';
import type { Registry } from '../config/load.ts';
import type { RunResult } from '../run/types.ts';
import { requirePositional } from './args.ts';
import type { CliArgs } from './args.ts';
import type { CliIo } from './io.ts';
import { openSession, readJobFile } from './session.ts';

/** `perimeter run JOB_FILE [--output DIR]`: one run in-process, no Redis, no control plane. */
export async function runCommand(args: CliArgs, io: CliIo, registry: Registry): Promise<number> {
  const jobPath = requirePositional(args, 'JOB_FILE', 'perimeter run JOB_FILE [--output DIR]');
  const job = { path: jobPath, ...inspectJobFile(jobPath, await readJobFile(io, jobPath)) };
  const session = await openSession(io, registry, {
    ...(args.config === undefined ? {} : { configPath: args.config }),
    job,
    output:
      args.output === undefined
        ? { kind: 'catalog' }
        : { kind: 'directory', dir: resolve(io.cwd, args.output) },
  });
  try {
    const spec = job.spec;
    if (spec === undefined) {
      throw new PerimeterError('INTERNAL', 'A job file with problems passed the session checks');
    }
    const result = await session.runtime.executor.execute(spec, { signal: io.signal });
    const where =
      args.output ?? `catalog ${new URL(session.config.catalog?.url ?? 'http://-').host}`;
    io.stdout(`${summarise(result)} -> ${where}\n`);
    if (result.check) {
      io.stdout(`${result.check.summary}\n`);
    }
    if (result.resources) {
      io.stdout(`${JSON.stringify(result.resources, null, 2)}\n`);
    }
    return 0;
  } finally {
    await session.runtime.close();
  }
}

/** `perimeter discover JOB_FILE`: the selectable resources as JSON on stdout. */
export async function discoverCommand(
  args: CliArgs,
  io: CliIo,
  registry: Registry,
): Promise<number> {
  const jobPath = requirePositional(args, 'JOB_FILE', 'perimeter discover JOB_FILE');
  const spec = {
    ...parseJobFile(jobPath, await readJobFile(io, jobPath)),
    operation: 'discover' as const,
  };
  const session = await openSession(io, registry, {
    ...(args.config === undefined ? {} : { configPath: args.config }),
    output: { kind: 'none' },
  });
  try {
    const result = await session.runtime.executor.execute(spec, { signal: io.signal });
    io.stdout(`${JSON.stringify(result.resources ?? [], null, 2)}\n`);
    return 0;
  } finally {
    await session.runtime.close();
  }
}

/** One line: `run <id> (<connector> extract) succeeded: 1200 assets in 2 batches, 310 KiB, 1.4 s`. */
export function summarise(result: RunResult): string {
  const kib = (result.bytes / 1024).toFixed(1);
  const seconds = (result.durationMs / 1000).toFixed(1);
  return `run ${result.runId} (${result.connector} ${result.operation}) succeeded: ${result.assets} assets in ${result.batches} batches, ${kib} KiB, ${seconds} s`;
}

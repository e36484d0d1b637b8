import { resolve } from 'node:path';
import { inspectJobFile, parseJobFile } from '../config/job-file.ts';
import { PerimeterError } from '../plugin-api/index.ts';
import type { Registry } from '../config/load.ts';
import type { DiscoveredResource } from '../plugin-api/index.ts';
import type { RunResult } from '../run/types.ts';
import { requirePositional } from './args.ts';
import type { CliArgs } from './args.ts';
import type { CliIo } from './io.ts';
import { commandLogLevel, createOutput } from './output.ts';
import type { Output } from './output.ts';
import { printCounts } from './run-counts.ts';
import { openSession, readJobFile } from './session.ts';

/** `perimeter run JOB_FILE [--output DIR]`: one run in-process, no Redis, no control plane. */
export async function runCommand(args: CliArgs, io: CliIo, registry: Registry): Promise<number> {
  const jobPath = requirePositional(args, 'JOB_FILE', 'perimeter run JOB_FILE [--output DIR]');
  const job = { path: jobPath, ...inspectJobFile(jobPath, await readJobFile(io, jobPath)) };
  const output = createOutput(io, args);
  const session = await openSession(io, registry, {
    ...(args.config === undefined ? {} : { configPath: args.config }),
    job,
    output:
      args.output === undefined
        ? { kind: 'catalog' }
        : { kind: 'directory', dir: resolve(io.cwd, args.output) },
    logLevel: commandLogLevel(args),
  });
  const progress = output.progress();
  try {
    const spec = job.spec;
    if (spec === undefined) {
      throw new PerimeterError('INTERNAL', 'A job file with problems passed the session checks');
    }
    const result = await session.runtime.executor.execute(spec, {
      signal: io.signal,
      hooks: {
        onProgress: (counts) => {
          progress.update(counts);
        },
      },
    });
    progress.done();
    const where =
      args.output ?? `catalog ${new URL(session.config.catalog?.url ?? 'http://-').host}`;
    if (output.json) {
      output.data({ ...result, destination: where });
      return 0;
    }
    output.line(`${summarise(result, output)} -> ${where}`);
    printCounts(output, result);
    if (result.check) {
      output.line(result.check.summary);
    }
    if (result.resources) {
      printResources(output, result.resources);
    }
    return 0;
  } finally {
    progress.done();
    await session.runtime.close();
  }
}

/** `perimeter discover JOB_FILE`: the selectable resources, one aligned line each (`--json`: JSON). */
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
  const output = createOutput(io, args);
  const session = await openSession(io, registry, {
    ...(args.config === undefined ? {} : { configPath: args.config }),
    output: { kind: 'none' },
    logLevel: commandLogLevel(args),
  });
  try {
    const result = await session.runtime.executor.execute(spec, { signal: io.signal });
    printResources(output, result.resources ?? []);
    return 0;
  } finally {
    await session.runtime.close();
  }
}

/** Resources as JSON (`--json`) or as `kind  id  name  parent  attributes` lines. */
function printResources(output: Output, resources: readonly DiscoveredResource[]): void {
  if (output.json) {
    output.data(resources);
    return;
  }
  if (resources.length === 0) {
    output.line('no selectable resources');
    return;
  }
  // The attributes column only when some resource has attributes.
  const withAttributes = resources.some(
    (resource) => Object.keys(resource.attributes ?? {}).length > 0,
  );
  const titles = ['KIND', 'ID', 'NAME', 'PARENT', ...(withAttributes ? ['ATTRIBUTES'] : [])];
  output.rows([
    titles.map((title) => output.style('bold', title)),
    ...resources.map((resource) => [
      resource.kind,
      resource.id,
      resource.name,
      resource.parentId ?? '-',
      ...(withAttributes ? [attributesText(resource)] : []),
    ]),
  ]);
}

function attributesText(resource: DiscoveredResource): string {
  return Object.entries(resource.attributes ?? {})
    .map(([key, value]) => `${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`)
    .join(' ');
}

/** One line: `run <id> (<connector> extract) succeeded: 1200 assets in 2 batches, 310 KiB, 1.4 s`. */
export function summarise(result: RunResult, output?: Output): string {
  const kib = (result.bytes / 1024).toFixed(1);
  const seconds = (result.durationMs / 1000).toFixed(1);
  const word = result.partial === true ? 'succeeded (partial)' : 'succeeded';
  const succeeded = output?.style(result.partial === true ? 'yellow' : 'green', word) ?? word;
  return `run ${result.runId} (${result.connector} ${result.operation}) ${succeeded}: ${result.assets} assets in ${result.batches} batches, ${kib} KiB, ${seconds} s`;
}

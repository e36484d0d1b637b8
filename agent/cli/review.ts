import { resolve } from 'node:path';
import type { Registry } from '../config/load.ts';
import { ledgerStoreOf } from '../daemon/daemon.ts';
import { openRedis } from '../daemon/operations.ts';
import { PerimeterError } from '../plugin-api/index.ts';
import { createReviewMarks } from '../queue/review-marks.ts';
import {
  approveReview,
  listReviews,
  readReview,
  readReviewedBatch,
  rejectReview,
} from '../sink/review.ts';
import type { ReviewRun } from '../sink/review.ts';
import type { CliArgs } from './args.ts';
import type { CliIo } from './io.ts';
import { loadSessionConfig, openSession } from './session.ts';

const USAGE =
  'perimeter review list|show|approve|reject [RUN] [--dir DIR] [--ndjson] [--config FILE]';

/**
 * `perimeter review`: reads the runs held in a review area (the `--output` layout), prints
 * exactly their files and digests, and releases (pushes verbatim) or drops them.
 */
export async function reviewCommand(args: CliArgs, io: CliIo, registry: Registry): Promise<number> {
  const [action, runId] = args.positionals;
  const dir = resolve(io.cwd, args.dir ?? (await configuredDir(args, io, registry)));
  if (action === 'list') {
    for (const run of await listReviews(dir)) {
      io.stdout(
        `${run.runId}  ${run.connector}  ${run.assets} assets in ${run.batches} batches  ${run.decision?.decision ?? 'awaiting_review'}\n`,
      );
    }
    return 0;
  }
  if (runId === undefined || !['show', 'approve', 'reject'].includes(action ?? '')) {
    throw new PerimeterError('JOB_INVALID', `review needs an action and a run id. Usage: ${USAGE}`);
  }
  if (action === 'show') {
    await show(dir, await readReview(dir, runId), args, io);
    return 0;
  }
  if (action === 'reject') {
    const run = await rejectReview(dir, runId);
    io.stdout(`run ${run.runId} rejected: ${run.batches} batches deleted, nothing pushed\n`);
    return 0;
  }
  return approve(dir, runId, args, io, registry);
}

/** Without --dir, the review area is the config's `review.dir`. */
async function configuredDir(args: CliArgs, io: CliIo, registry: Registry): Promise<string> {
  const { config } = await loadSessionConfig(io, registry, args.config);
  if (config.review.dir === undefined) {
    throw new PerimeterError(
      'JOB_INVALID',
      `review needs --dir, or review.dir in the configuration. Usage: ${USAGE}`,
    );
  }
  return config.review.dir;
}

async function show(dir: string, run: ReviewRun, args: CliArgs, io: CliIo): Promise<void> {
  io.stdout(
    `run ${run.runId} (${run.connector}): ${run.assets} assets in ${run.batches} batches, ${run.decision?.decision ?? 'awaiting_review'}\n`,
  );
  for (const file of run.files) {
    io.stdout(
      `${file.file}  seq=${file.seq}  ${file.assets} assets  ${file.bytes}B  sha256=${file.sha256}\n`,
    );
    if (args.ndjson) {
      io.stdout((await readReviewedBatch(dir, run, file)).ndjson.toString('utf8'));
    }
  }
}

async function approve(
  dir: string,
  runId: string,
  args: CliArgs,
  io: CliIo,
  registry: Registry,
): Promise<number> {
  const session = await openSession(io, registry, {
    ...(args.config === undefined ? {} : { configPath: args.config }),
    output: { kind: 'none' },
    logLevel: 'warn',
  });
  try {
    const connections = await openRedis({
      ...session,
      resolver: session.runtime.resolver,
      signal: io.signal,
    });
    try {
      const client = connections.open('review');
      session.runtime.useLedgerStore(ledgerStoreOf(session.config, client, connections.prefix));
      const run = await approveReview(dir, runId, (reviewed, batches) =>
        session.runtime.pushReviewed(
          {
            runId: reviewed.runId,
            batches,
            summary: { assets: reviewed.assets, batches: reviewed.batches, bytes: reviewed.bytes },
            counts: reviewed.counts,
          },
          io.signal,
        ),
      );
      await createReviewMarks({ client, prefix: connections.prefix }).approved(run.runId);
      io.stdout(`run ${run.runId} approved: ${run.batches} batches pushed to the catalog\n`);
      return 0;
    } finally {
      await connections.close();
    }
  } finally {
    await session.runtime.close();
  }
}

import type { Registry } from '../config/load.ts';
import { PerimeterError, sleep } from '../plugin-api/index.ts';
import { RUN_STATES, findRun, listRuns } from '../queue/inspect.ts';
import type { RunDetail, RunState } from '../queue/inspect.ts';
import { outboxEventsOf } from '../queue/outbox.ts';
import { RUN_ID_PATTERN } from '../run/spec.ts';
import type { CliArgs } from './args.ts';
import type { CliIo } from './io.ts';
import { argumentError, withOperations } from './operations.ts';
import type { OperationsContext } from './operations.ts';
import { formatRunDetail, formatRunList, jsonOf } from './runs-format.ts';

const USAGE =
  'perimeter runs list [--state STATE] [--json] | show RUN_ID [--json] | cancel RUN_ID [--json]';
/** Most runs `list` prints. */
const LIST_LIMIT = 100;
/** How long `cancel` waits to see an active run stop on its worker. */
const STOP_WAIT_MS = 5_000;
const STOP_POLL_MS = 20;
const FINISHED: ReadonlySet<RunState> = new Set(['completed', 'held', 'failed', 'cancelled']);

/**
 * `perimeter runs list|show|cancel`: the runs in the queue, with the agent's own config and
 * Redis. Exit 0 ok, 1 not found or failed, 2 bad input.
 */
export async function runsCommand(args: CliArgs, io: CliIo, registry: Registry): Promise<number> {
  const [action, runIdArg] = args.positionals;
  switch (action) {
    case 'list': {
      const states = parseState(args.state);
      return withOperations(args, io, registry, async (context) => {
        const runs = await context.call(
          listRuns(context.operations.side.queue, {
            ...(states === undefined ? {} : { states }),
            limit: LIST_LIMIT,
            connectorOf: context.connectorOf,
          }),
          'listing runs',
        );
        io.stdout(
          args.json ? `${JSON.stringify(runs.map(jsonOf), null, 2)}\n` : formatRunList(runs),
        );
        return 0;
      });
    }
    case 'show': {
      const runId = parseRunId(runIdArg);
      return withOperations(args, io, registry, (context) => showRun(context, runId, args, io));
    }
    case 'cancel': {
      const runId = parseRunId(runIdArg);
      return withOperations(args, io, registry, (context) => cancelRun(context, runId, args, io));
    }
    case undefined:
    default:
      throw argumentError(
        action === undefined ? 'A runs action is missing' : `Unknown runs action "${action}"`,
        USAGE,
      );
  }
}

async function showRun(
  context: OperationsContext,
  runId: string,
  args: CliArgs,
  io: CliIo,
): Promise<number> {
  const { side, cancel } = context.operations;
  const run = await requireRun(context, runId);
  const cancelRequested = (await context.call(cancel.requested([runId]), 'reading cancels')).has(
    runId,
  );
  // Standalone mode keeps no events; with a control plane the outbox holds the undelivered ones.
  const events =
    context.config.controlPlane === undefined
      ? undefined
      : await context.call(outboxEventsOf(side.client, side.prefix, runId), 'reading run events');
  io.stdout(
    args.json
      ? `${JSON.stringify({ ...jsonOf(run), cancelRequested, events: events ?? null }, null, 2)}\n`
      : formatRunDetail(run, { cancelRequested, events }),
  );
  return 0;
}

/**
 * Cancels through the instruction target, as a control plane's `cancel` does: a waiting or
 * delayed run is removed; an active one is told to stop (pub/sub, cancel key polled as backstop)
 * on whichever worker holds it, and the command waits a few seconds to see it stop.
 */
async function cancelRun(
  context: OperationsContext,
  runId: string,
  args: CliArgs,
  io: CliIo,
): Promise<number> {
  const { target } = context.operations.side;
  const before = await requireRun(context, runId);
  if (FINISHED.has(before.state)) {
    throw new PerimeterError(
      'RUN_NOT_FOUND',
      `Run ${runId} already finished (${before.state}); there is nothing to cancel`,
      { context: { runId, state: before.state } },
    );
  }
  const requestedAt = Date.now();
  if ((await target.cancelRun(runId)) === 'unknown') {
    throw new PerimeterError(
      'RUN_NOT_FOUND',
      `Run ${runId} finished before it could be cancelled`,
      {
        context: { runId },
      },
    );
  }
  const after = await waitUntilStopped(context, runId, io.signal);
  const outcome =
    after === undefined ? 'removed' : FINISHED.has(after.state) ? 'stopped' : 'requested';
  const stopMs =
    outcome === 'stopped' && after?.finishedAt !== undefined
      ? Math.max(0, after.finishedAt - requestedAt)
      : undefined;
  const result = {
    runId,
    outcome,
    state: after?.state ?? 'removed',
    requestedAt: new Date(requestedAt).toISOString(),
    ...(stopMs === undefined ? {} : { stopMs }),
  };
  io.stdout(args.json ? `${JSON.stringify(result, null, 2)}\n` : `${cancelLine(result)}\n`);
  return 0;
}

function cancelLine(result: {
  runId: string;
  outcome: string;
  state: string;
  stopMs?: number;
}): string {
  switch (result.outcome) {
    case 'removed':
      return `run ${result.runId} cancelled: removed from the queue before it started`;
    case 'stopped':
      return `run ${result.runId} ${result.state}: its worker stopped it ${result.stopMs ?? '?'} ms after the request`;
    default:
      return `run ${result.runId}: cancel requested, but it is still active after ${STOP_WAIT_MS / 1000} s (its worker may be busy or gone); it stops when a worker next checks it`;
  }
}

/** Polls the run until it is no longer waiting or active (or is gone), for at most STOP_WAIT_MS. */
async function waitUntilStopped(
  context: OperationsContext,
  runId: string,
  signal: AbortSignal,
): Promise<RunDetail | undefined> {
  const deadline = Date.now() + STOP_WAIT_MS;
  for (;;) {
    const run = await context.call(
      findRun(context.operations.side.queue, runId, context.connectorOf),
      `reading run ${runId}`,
    );
    if (run === undefined || FINISHED.has(run.state) || Date.now() >= deadline) {
      return run;
    }
    await sleep(STOP_POLL_MS, { signal });
  }
}

async function requireRun(context: OperationsContext, runId: string): Promise<RunDetail> {
  const run = await context.call(
    findRun(context.operations.side.queue, runId, context.connectorOf),
    `reading run ${runId}`,
  );
  if (run === undefined) {
    throw new PerimeterError('RUN_NOT_FOUND', `No run ${runId} is in the queue`, {
      context: { runId },
    });
  }
  return run;
}

function parseRunId(runId: string | undefined): string {
  if (runId === undefined) {
    throw argumentError('RUN_ID is missing', USAGE);
  }
  if (!RUN_ID_PATTERN.test(runId)) {
    throw argumentError('RUN_ID must be 1-128 of A-Z a-z 0-9 . _ - and not only digits', USAGE);
  }
  return runId;
}

function parseState(state: string | undefined): RunState[] | undefined {
  if (state === undefined) {
    return undefined;
  }
  const known = RUN_STATES.find((candidate) => candidate === state);
  if (known === undefined) {
    throw argumentError(`--state must be one of ${RUN_STATES.join(', ')}`, USAGE);
  }
  return [known];
}

import type { Registry } from '../config/load.ts';
import { PerimeterError } from '../plugin-api/index.ts';
import { listSchedules } from '../queue/inspect.ts';
import { LOCAL_SCHEDULE_PREFIX, ScheduleIdSchema } from '../run/spec.ts';
import type { CliArgs } from './args.ts';
import type { CliIo } from './io.ts';
import { argumentError, withOperations } from './operations.ts';
import { formatScheduleList, jsonOf } from './runs-format.ts';

const USAGE = 'perimeter schedules list [--json] | remove SCHEDULE_ID';

/**
 * `perimeter schedules list|remove`: the queue's job schedulers (recurring runs). `remove` is
 * what a control plane's `unschedule` does. Exit 0 ok, 1 not found, 2 bad input.
 */
export async function schedulesCommand(
  args: CliArgs,
  io: CliIo,
  registry: Registry,
): Promise<number> {
  const [action, scheduleId] = args.positionals;
  switch (action) {
    case 'list':
      return withOperations(args, io, registry, async (context) => {
        const schedules = await context.call(
          listSchedules(context.operations.side.queue, context.connectorOf),
          'listing schedules',
        );
        io.stdout(
          args.json
            ? `${JSON.stringify(schedules.map(jsonOf), null, 2)}\n`
            : formatScheduleList(schedules),
        );
        return 0;
      });
    case 'remove': {
      const id = parseScheduleId(scheduleId);
      return withOperations(args, io, registry, async (context) => {
        if ((await context.operations.side.target.removeSchedule(id)) === 'unknown') {
          throw new PerimeterError('RUN_NOT_FOUND', `No schedule ${id} is in the queue`, {
            context: { scheduleId: id },
          });
        }
        const note = id.startsWith(LOCAL_SCHEDULE_PREFIX)
          ? '; it comes from the config, which recreates it at the next start unless its job is removed there'
          : '';
        io.stdout(`schedule ${id} removed${note}\n`);
        return 0;
      });
    }
    case undefined:
    default:
      throw argumentError(
        action === undefined
          ? 'A schedules action is missing'
          : `Unknown schedules action "${action}"`,
        USAGE,
      );
  }
}

function parseScheduleId(id: string | undefined): string {
  if (id === undefined) {
    throw argumentError('SCHEDULE_ID is missing', USAGE);
  }
  if (!ScheduleIdSchema.safeParse(id).success) {
    throw argumentError(
      'SCHEDULE_ID must be 1-100 of A-Z a-z 0-9 . _ - and not only digits',
      USAGE,
    );
  }
  return id;
}

import type { RunDetail, RunSummary, ScheduleSummary } from '../queue/inspect.ts';
import type { RunEvent } from '../run/contract.ts';

/** Epoch ms as ISO 8601 (UTC), or `-`. */
export function timeOf(ms: number | undefined): string {
  return ms === undefined ? '-' : new Date(ms).toISOString();
}

/** Rows as left-aligned columns under a header. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => (row[column] ?? '').length)),
  );
  const line = (cells: readonly string[]): string =>
    cells
      .map((cell, column) => cell.padEnd(widths[column] ?? 0))
      .join('  ')
      .trimEnd();
  return [header, ...rows].map(line).join('\n') + '\n';
}

/** `perimeter runs list`: one line per run. */
export function formatRunList(runs: readonly RunSummary[]): string {
  if (runs.length === 0) {
    return 'No runs in the queue.\n';
  }
  return table(
    [
      'RUN',
      'CONNECTOR',
      'CONNECTION',
      'OPERATION',
      'STATE',
      'ATTEMPTS',
      'STARTED',
      'FINISHED',
      'ASSETS',
      'BATCHES',
      'ERROR',
    ],
    runs.map((run) => [
      run.runId,
      run.connector ?? '-',
      run.connection,
      run.operation,
      run.state,
      `${run.attempts}/${run.maxAttempts}`,
      timeOf(run.startedAt),
      timeOf(run.finishedAt),
      run.progress === undefined ? '-' : String(run.progress.assets),
      run.progress === undefined ? '-' : String(run.progress.batches),
      run.errorCode ?? '-',
    ]),
  );
}

/** `perimeter runs show`: the run, its checkpoint and the events the outbox still holds. */
export function formatRunDetail(
  run: RunDetail,
  extra: { readonly cancelRequested: boolean; readonly events: readonly RunEvent[] | undefined },
): string {
  const fields: [string, string][] = [
    ['run', run.runId],
    ['job', run.jobId],
    ['state', run.state],
    ['connector', run.connector ?? '-'],
    ['connection', run.connection],
    ['operation', run.operation],
    ['params', run.paramNames.length === 0 ? '-' : run.paramNames.join(', ')],
    ['schedule', run.scheduleId ?? '-'],
    ['attempts', `${run.attempts} of ${run.maxAttempts}`],
    ['queued', timeOf(run.queuedAt)],
    ['started', timeOf(run.startedAt)],
    ['finished', timeOf(run.finishedAt)],
    ...(run.dueAt === undefined ? [] : [['due', timeOf(run.dueAt)] as [string, string]]),
    ['checkpoint', checkpointOf(run)],
    ...(run.result === undefined ? [] : [['result', resultOf(run)] as [string, string]]),
    ['last error', run.lastError ?? '-'],
    ['cancel requested', extra.cancelRequested ? 'yes' : 'no'],
  ];
  const width = Math.max(...fields.map(([name]) => name.length)) + 1;
  const lines = fields.map(([name, value]) => `${`${name}:`.padEnd(width)} ${value}`);
  return `${lines.join('\n')}\n${eventsOf(extra.events)}`;
}

function checkpointOf(run: RunDetail): string {
  const checkpoint = run.checkpoint;
  return checkpoint === undefined
    ? 'none'
    : `${checkpoint.assets} assets in ${checkpoint.batches} batches (${checkpoint.bytes} bytes) committed`;
}

function resultOf(run: RunDetail): string {
  const result = run.result;
  return result === undefined
    ? '-'
    : `${result.assets} assets in ${result.batches} batches, ${result.bytes} bytes, ${result.durationMs} ms`;
}

function eventsOf(events: readonly RunEvent[] | undefined): string {
  if (events === undefined) {
    return 'events: not kept (standalone mode keeps no run events; the agent logs each outcome)\n';
  }
  if (events.length === 0) {
    return 'events: none waiting for delivery to the control plane\n';
  }
  const rows = events.map((event) => [String(event.seq), event.at, event.type, eventDetail(event)]);
  return `events not yet delivered to the control plane:\n${table(['SEQ', 'AT', 'EVENT', 'DETAIL'], rows)}`;
}

function eventDetail(event: RunEvent): string {
  switch (event.type) {
    case 'queued':
      return '';
    case 'started':
    case 'cancelled':
      return `attempt ${event.attempt}`;
    case 'progress':
      return `attempt ${event.attempt}: ${event.progress.assets} assets, ${event.progress.batches} batches`;
    case 'succeeded':
    case 'awaiting_review':
      return `attempt ${event.attempt}: ${event.result.assets} assets, ${event.result.batches} batches`;
    case 'failed':
      return `attempt ${event.attempt}: ${event.error.code}${event.willRetry ? ' (will retry)' : ''}`;
  }
}

/** `perimeter schedules list`: one line per job scheduler. */
export function formatScheduleList(schedules: readonly ScheduleSummary[]): string {
  if (schedules.length === 0) {
    return 'No schedules in the queue.\n';
  }
  return table(
    [
      'SCHEDULE',
      'CRON/EVERY',
      'TIMEZONE',
      'NEXT',
      'CONNECTOR',
      'CONNECTION',
      'OPERATION',
      'ORIGIN',
    ],
    schedules.map((schedule) => [
      schedule.scheduleId,
      schedule.cron ??
        (schedule.everySeconds === undefined ? '-' : `every ${schedule.everySeconds}s`),
      schedule.timezone ?? '-',
      timeOf(schedule.nextAt),
      schedule.connector ?? '-',
      schedule.connection ?? '-',
      schedule.operation ?? '-',
      schedule.origin ?? '-',
    ]),
  );
}

/** A summary or detail for `--json`: times as ISO 8601. */
export function jsonOf(value: object): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(value).map(([key, field]) => [
      key,
      key.endsWith('At') && typeof field === 'number' ? new Date(field).toISOString() : field,
    ]),
  );
}

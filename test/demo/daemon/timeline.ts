// The demo's live view: every acknowledgement and run event the control plane receives, printed
// as it arrives, one aligned line each, until every instruction is answered and every run ended.
import type { FakeControlPlane, ReceivedEvent } from '../../fakes/control-plane/server.ts';
import type { Issued } from './instructions.ts';

const FINAL = new Set(['succeeded', 'cancelled']);
const POLL_MS = 100;

/** Prints acks and events as they arrive; resolves when all ended, rejects after `timeoutMs`. */
export async function followTimeline(options: {
  readonly controlPlane: FakeControlPlane;
  readonly issued: readonly Issued[];
  readonly say: (text: string) => void;
  readonly startedMs: number;
  readonly timeoutMs: number;
}): Promise<void> {
  const { controlPlane, issued, say } = options;
  const records = controlPlane.records;
  const issuedRuns = issued.flatMap((item) => (item.runId === undefined ? [] : [item.runId]));
  const schedules = issued.flatMap((item) =>
    item.scheduleId === undefined ? [] : [`${item.scheduleId}.`],
  );
  // A tick's run id is `<scheduleId>.<13-digit ms>`.
  const width = Math.max(...[...issuedRuns, ...schedules].map((id) => id.length + 13), 11);
  const printed = { acks: 0, events: new Map<string, number>() };
  const stamp = (): string =>
    `+${((Date.now() - options.startedMs) / 1000).toFixed(1)}s`.padStart(7);
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    for (const ack of records.acks.slice(printed.acks)) {
      const item = issued.find((candidate) => candidate.id === ack.instructionId);
      const what = item?.what ?? ack.instructionId;
      say(
        `${stamp()}  ${'instruction'.padEnd(width)}  ${(ack.accepted ? 'accepted' : 'refused').padEnd(10)}  ${ack.accepted ? what : `${what} (${ack.code ?? '?'})`}`,
      );
    }
    printed.acks = records.acks.length;
    const ticks = records.runIds().filter((id) => schedules.some((s) => id.startsWith(s)));
    const runIds = [...issuedRuns, ...ticks];
    for (const runId of runIds) {
      const events = records.runEvents(runId);
      for (const event of events.slice(printed.events.get(runId) ?? 0)) {
        say(
          `${stamp()}  ${runId.padEnd(width)}  ${event.type.padEnd(10)}  ${describe(event)}`.trimEnd(),
        );
      }
      printed.events.set(runId, events.length);
    }
    const answered = issued.every((item) => records.acksOf(item.id).length > 0);
    const ended =
      runIds.every((runId) => records.runEvents(runId).some(isFinal)) &&
      schedules.every((s) => ticks.some((id) => id.startsWith(s)));
    if (answered && ended) {
      return;
    }
    if (Date.now() > deadline) {
      throw new Error(`not every run ended within ${String(options.timeoutMs / 1000)} s`);
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

function isFinal(event: ReceivedEvent): boolean {
  return FINAL.has(event.type) || (event.type === 'failed' && event['willRetry'] === false);
}

/** The few fields of an event a person wants to see. */
function describe(event: ReceivedEvent): string {
  switch (event.type) {
    case 'started':
      return `attempt ${String(event['attempt'])}`;
    case 'progress': {
      const progress = event['progress'] as { assets?: number; batches?: number } | undefined;
      return `${String(progress?.assets ?? 0)} assets, ${String(progress?.batches ?? 0)} batches so far`;
    }
    case 'succeeded': {
      const result = event['result'] as {
        operation: string;
        assets: number;
        batches: number;
        bytes: number;
        durationMs: number;
        check?: { summary?: string };
        resources?: readonly unknown[];
        partial?: boolean;
        reconciled?: boolean;
        skipped?: { total: number; items: readonly { kind: string; id: string }[] };
      };
      if (result.operation === 'check') {
        return result.check?.summary ?? 'check passed';
      }
      if (result.operation === 'discover') {
        return `${String(result.resources?.length ?? 0)} selectable resources`;
      }
      const moved = `${String(result.assets)} assets in ${String(result.batches)} batches, ${(result.bytes / 1024).toFixed(0)} KiB, ${(result.durationMs / 1000).toFixed(1)} s`;
      return result.partial === true ? `${moved}; ${partialLine(result)}` : moved;
    }
    case 'failed': {
      const error = event['error'] as { code?: string; message?: string } | undefined;
      return `${error?.code ?? ''} ${error?.message ?? ''}${event['willRetry'] === true ? ' (will retry)' : ''}`;
    }
    default:
      return '';
  }
}

/** What a partial run skipped, as its final event says: the count, the first ids, whether counts reconcile. */
function partialLine(result: {
  reconciled?: boolean;
  skipped?: { total: number; items: readonly { kind: string; id: string }[] };
}): string {
  const items = result.skipped?.items ?? [];
  const first = items.slice(0, 3).map((item) => `${item.kind} ${item.id}`);
  const more = (result.skipped?.total ?? 0) > first.length ? ', …' : '';
  const reconciled = result.reconciled === true ? 'counts reconciled' : 'counts do not reconcile';
  return `partial, ${String(result.skipped?.total ?? 0)} skipped (${first.join(', ')}${more}), ${reconciled}`;
}

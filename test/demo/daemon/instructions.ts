// What the demo control plane issues: an extract per connector, a discover, a check, a schedule,
// all signed with its Ed25519 key, and one instruction changed after signing, which the agent
// must refuse.
import { draft, runDraft } from '../../fakes/control-plane/server.ts';
import type { FakeControlPlane, InstructionDraft } from '../../fakes/control-plane/server.ts';

/** One issued instruction, as the demo tells it. */
export interface Issued {
  readonly id: string;
  /** E.g. `run demo-cyera: extract cyera`. */
  readonly what: string;
  /** The run it starts, if any. */
  readonly runId?: string;
  /** The schedule it sets, if any: its ticks run as `<scheduleId>.<ms>`. */
  readonly scheduleId?: string;
  readonly tampered: boolean;
}

const RUNS = [
  { runId: 'demo-cyera', operation: 'extract', connectionId: 'cyera' },
  { runId: 'demo-cyral', operation: 'extract', connectionId: 'cyral' },
  { runId: 'demo-anaplan', operation: 'extract', connectionId: 'anaplan' },
  { runId: 'demo-cyera-discover', operation: 'discover', connectionId: 'cyera' },
  { runId: 'demo-cyral-check', operation: 'check', connectionId: 'cyral' },
] as const;

/** The extract runs, whose assets the catalog receives. */
export const EXTRACT_RUNS = RUNS.filter((run) => run.operation === 'extract');

/** Issues every instruction to the agent; returns them in the order issued. */
export function issueInstructions(controlPlane: FakeControlPlane, agentId: string): Issued[] {
  const { signer } = controlPlane;
  const issued: {
    instruction: InstructionDraft;
    what: string;
    runId?: string;
    scheduleId?: string;
  }[] = RUNS.map((run) => ({
    instruction: signer.sign(runDraft(run)),
    what: `run ${run.runId}: ${run.operation} ${run.connectionId}`,
    runId: run.runId,
  }));
  issued.push({
    instruction: signer.sign(
      draft('schedule', {
        schedule: {
          scheduleId: 'demo-anaplan-hourly',
          everySeconds: 3600,
          run: { operation: 'extract', connectionId: 'anaplan', params: {} },
        },
      }),
    ),
    what: 'schedule demo-anaplan-hourly: extract anaplan every hour, from now',
    scheduleId: 'demo-anaplan-hourly',
  });
  const tampered = signer.tamper(
    runDraft({ runId: 'demo-tampered', connectionId: 'cyera' }),
    (copy) => {
      (copy['run'] as Record<string, unknown>)['connectionId'] = 'cyral';
    },
  );
  controlPlane.issue([...issued.map((item) => item.instruction), tampered], agentId);
  return [
    ...issued.map((item) => ({
      id: String(item.instruction['id']),
      what: item.what,
      ...(item.runId === undefined ? {} : { runId: item.runId }),
      ...(item.scheduleId === undefined ? {} : { scheduleId: item.scheduleId }),
      tampered: false,
    })),
    {
      id: String(tampered['id']),
      what: 'run demo-tampered: connection changed from cyera to cyral after signing',
      tampered: true,
    },
  ];
}

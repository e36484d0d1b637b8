import { VERSION } from '../version.ts';

/** What the help text says of a connector (a registered `Connector` is one). */
export interface ConnectorSummary {
  readonly name: string;
  readonly version: string;
}

/** The text of `perimeter --help`. */
export function helpText(connectors: readonly ConnectorSummary[]): string {
  return `perimeter ${VERSION}: a self-deployed metadata runtime. Credentials never leave the perimeter.

Usage:
  perimeter start [--role link|worker|all] [--config FILE]
      Run the agent: control-plane link (or the config's jobs, standalone), queue workers on
      Redis, and the health server.
  perimeter run JOB_FILE [--output DIR] [--config FILE]
      Run one job in-process: no Redis, no control plane. With --output, write the batches as
      NDJSON files to DIR instead of pushing them (a dry run to inspect before anything leaves).
  perimeter check [JOB_FILE] [--config FILE] [--json]
      Check the configuration, each secret reference (resolvable; never printed), each host's
      reachability and, with a job file, the connector's credentials. One line per check.
  perimeter discover JOB_FILE [--config FILE]
      List the resources the job's connection can select (JSON on stdout).
  perimeter ledger verify [--file PATH] [--config FILE]
      Check the outbound ledger's hash chain (Redis, or a ledger file) and print its head;
      exit 1 naming the first entry altered, removed or moved.
  perimeter ledger show [--run ID] [--since TIME] [--json] [--config FILE]
      List the recorded outbound requests: time, run, destination, bytes, body sha256.
  perimeter review list|show|approve|reject [RUN] --dir DIR [--ndjson] [--config FILE]
      Read the runs written to DIR (by perimeter run --output DIR), each batch with its sha256;
      approve pushes exactly those bytes to the catalog, reject deletes them.

Standalone operations (the queue in Redis, with the config's redis.* settings and prefix):
  perimeter runs list [--state waiting|active|delayed|completed|failed|cancelled] [--json]
      The newest runs: id, connector, connection, operation, state, attempts, times, counts
      and the last error code.   e.g. perimeter runs list --state active
  perimeter runs show RUN_ID [--json]
      One run: its checkpoint (counts, not the cursor), last error and undelivered events.
      e.g. perimeter runs show inventory.m4x1a2b3
  perimeter runs cancel RUN_ID [--json]
      Remove a waiting run, or stop an active one on whichever worker holds it (as a control
      plane's cancel does) and wait a few seconds to see it stop.
      e.g. perimeter runs cancel inventory.m4x1a2b3
  perimeter schedules list [--json]
      Recurring runs: id, cron or interval, time zone, next run, connector, connection.
      e.g. perimeter schedules list --json
  perimeter schedules remove SCHEDULE_ID
      Remove a schedule (as a control plane's unschedule does).
      e.g. perimeter schedules remove local.nightly

Options:
  --config FILE   YAML config file (default: $PERIMETER_CONFIG; settings also come from
                  PERIMETER_* variables, see docs/configuration.md)
  -h, --help      This help.   -v, --version   The version.

Connectors: ${connectors.map((c) => `${c.name} ${c.version}`).join(', ') || '(none)'}

Exit codes: 0 success, 1 the run or a check failed (or no such run), 2 bad input (config, job
file, reference, argument).
Every error prints its code and what to do; docs/errors.md lists them all.
`;
}

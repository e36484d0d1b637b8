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
  perimeter run JOB_FILE [--output DIR] [--config FILE] [--json]
      Run one job in-process: no Redis, no control plane. With --output, write the batches as
      NDJSON files to DIR instead of pushing them (a dry run to inspect before anything leaves).
  perimeter check [JOB_FILE] [--config FILE] [--json]
      Check the configuration, each secret reference (resolvable; never printed), each host's
      reachability and, with a job file, the connector's credentials. One line per check.
  perimeter discover JOB_FILE [--config FILE] [--json]
      List the resources the job's connection can select, one line each.
  perimeter ledger verify [--file PATH] [--config FILE]
      Check the outbound ledger's hash chain (Redis, or a ledger file) and print its head;
      exit 1 naming the first entry altered, removed or moved.
  perimeter ledger show [--run ID] [--since TIME] [--json] [--config FILE]
      List the recorded outbound requests: time, run, destination, bytes, body sha256.
  perimeter review list|show|approve|reject [RUN] --dir DIR [--ndjson] [--config FILE]
      Read the runs written to DIR (by perimeter run --output DIR), each batch with its sha256;
      approve pushes exactly those bytes to the catalog, reject deletes them.

Standalone operations (the queue in Redis, with the config's redis.* settings and prefix):
  perimeter runs list [--state waiting|active|delayed|completed|held|failed|cancelled] [--json]
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
  --json          Machine-readable output (run, check, discover).
  --verbose       Log lines too (JSON on stderr); --log-level LEVEL picks the level.
  -h, --help      This help; perimeter COMMAND --help for one command, with an example.
  -v, --version   The version.

Connectors: ${connectors.map((c) => `${c.name} ${c.version}`).join(', ') || '(none)'}

Exit codes: 0 success, 1 the run or a check failed (or no such run), 2 bad input (config, job
file, reference, argument).
Every error prints its code and what to do; docs/errors.md lists them all.
`;
}

const OUTPUT_OPTIONS = `  --json            Machine-readable output on stdout.
  --verbose         Also print log lines (JSON, on stderr) at the config's agent.logLevel.
  --log-level LVL   Print log lines at LVL: trace, debug, info, warn, error, fatal, silent.
  --config FILE     YAML config file (default: $PERIMETER_CONFIG).`;

const COMMAND_HELP: Readonly<Record<string, string>> = {
  run: `perimeter run JOB_FILE [--output DIR] [--json] [--verbose] [--config FILE]

Runs one job in-process (no Redis, no control plane) and prints one line: run id, assets,
batches, size and time, and where they went. On a terminal a progress line shows assets,
batches and the rate while it runs. With --output DIR the batches are written as NDJSON files
(a dry run to read before anything leaves) instead of being pushed to the catalog.

${OUTPUT_OPTIONS}

Example:
  perimeter run cyera-job.yaml --output dry-run
  run demo-cyera (cyera extract) succeeded: 1584 assets in 8 batches, 807.0 KiB, 1.1 s -> dry-run
`,
  check: `perimeter check [JOB_FILE] [--json] [--verbose] [--config FILE]

Checks the configuration, each secret reference (resolvable; the value is never printed), each
secret store profile, each host's reachability and, with a job file, the connector's own
credential check. One aligned line per check; exit 1 if any failed.

${OUTPUT_OPTIONS}

Example:
  perimeter check cyera-job.yaml
  ok    config  perimeter.yaml  0 connections, 2 secret store profiles, 0 jobs
  ok    secret  connection.credentials.clientId  resolvable: env://CYERA_CLIENT_ID (profile env)
  ok    reach   https://acme.cyera.io  reachable (HTTP 404)
  ok    source  cyera  logged in; 3 datastores visible
`,
  discover: `perimeter discover JOB_FILE [--json] [--verbose] [--config FILE]

Lists the resources the job's connection can select, one aligned line each: kind, id (the value
to put in the job's params), name, parent and a few attributes. --json prints them as JSON.

${OUTPUT_OPTIONS}

Example:
  perimeter discover cyera-job.yaml
  KIND       ID                                    NAME               PARENT  ATTRIBUTES
  datastore  01989002-5b3b-7ad1-8b6c-d302982476f5  sim-snowflake-000  -       type=SNOWFLAKE_DATABASE provider=Snowflake engine=snowflake
`,
  start: `perimeter start [--role link|worker|all] [--config FILE]

Runs the agent: the control-plane link (or the config's jobs, standalone), queue workers on
Redis and the health server (/livez, /readyz, /metrics, /status). Logs are JSON lines on stdout
at agent.logLevel. SIGTERM drains: no new work, running runs stop at a checkpoint, exit 0.

Example:
  perimeter start --config /etc/perimeter/perimeter.yaml --role worker
`,
};

/** The help of one command (`perimeter run --help`), or undefined for an unknown one. */
export function commandHelpText(command: string): string | undefined {
  return COMMAND_HELP[command];
}

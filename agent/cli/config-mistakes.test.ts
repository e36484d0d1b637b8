import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { connectors } from '../../connectors/index.ts';
import { secretStores } from '../../secrets/index.ts';
import { captureIo } from '../../test/helpers/cli-io.ts';
import { tempDir } from '../../test/helpers/temp-dir.ts';
import { runCli } from './cli.ts';

const registry = { connectors, stores: secretStores };
/** Pasted where a reference belongs: must never be printed. */
const SECRET = 'hunter2-not-a-reference';

const CYERA = `connections:
  cyera-prod:
    connector: cyera
    credentials:
      clientId: env://CYERA_CLIENT_ID
      secret: env://CYERA_SECRET
`;
const JOB = 'connection: cyera-prod\n';

interface Mistake {
  readonly mistake: string;
  readonly config?: string;
  readonly job?: string;
  readonly env?: Record<string, string>;
  readonly argv?: readonly string[];
  /** The first line and every problem line, exactly. */
  readonly printed: readonly string[];
}

const MISTAKES: readonly Mistake[] = [
  {
    mistake: 'an unknown PERIMETER_ variable and a job naming a missing connection',
    config: `${CYERA}jobs:\n  - id: nightly\n    connection: cyera-test\n`,
    env: { PERIMETER_CATALOG_URLL: 'https://catalog.example' },
    printed: [
      'error CONFIG_INVALID: The configuration has 2 problems:',
      '  - PERIMETER_CATALOG_URLL: no setting has this variable (did you mean PERIMETER_CATALOG_URL?); rename or unset it (see docs/configuration.md#environment-variables)',
      '  - jobs[0].connection: no connection of that id; use one of cyera-prod, or add it under `connections` (see docs/configuration.md#jobs)',
    ],
  },
  {
    mistake: 'a variable that is not a number',
    config: CYERA,
    env: { PERIMETER_QUEUE_CONCURRENCY: SECRET },
    printed: [
      'error CONFIG_INVALID: The configuration has 1 problem:',
      '  - PERIMETER_QUEUE_CONCURRENCY: must be a number (it sets queue.concurrency) (see docs/configuration.md#environment-variables)',
    ],
  },
  {
    mistake: 'a variable outside its allowed values',
    config: CYERA,
    env: { PERIMETER_AGENT_LOG_LEVEL: 'loud' },
    printed: [
      'error CONFIG_INVALID: The configuration has 1 problem:',
      '  - PERIMETER_AGENT_LOG_LEVEL (agent.logLevel): Invalid option: expected one of "fatal"|"error"|"warn"|"info"|"debug"|"trace"|"silent" (see docs/configuration.md#environment-variables)',
    ],
  },
  {
    mistake: 'jobs given as a variable',
    config: CYERA,
    env: { PERIMETER_JOBS: 'nightly' },
    printed: [
      'error CONFIG_INVALID: The configuration has 1 problem:',
      '  - PERIMETER_JOBS: no setting has this variable; rename or unset it (see docs/configuration.md#environment-variables)',
    ],
  },
  {
    mistake: 'a config file that does not exist',
    argv: ['run', 'job.yaml', '--output', 'out', '--config', 'missing.yaml'],
    printed: [
      'error CONFIG_INVALID: The configuration has 1 problem:',
      '  - missing.yaml: the config file cannot be read (ENOENT); check the path given by --config or PERIMETER_CONFIG and that the agent may read it (see docs/configuration.md)',
    ],
  },
  {
    mistake: 'a config file with a YAML syntax error',
    config: `${CYERA}  bad: [unclosed\n`,
    printed: [
      'error CONFIG_INVALID: The configuration has 1 problem:',
      "  - config.yaml: YAML syntax error at line 8, column 1 (BAD_INDENT); fix the file's syntax (see docs/configuration.md)",
    ],
  },
  {
    mistake: 'a misspelt section and a misspelt connection key',
    config: `${CYERA}    baseURL: https://api.cyera.io\nconections: {}\n`,
    printed: [
      'error CONFIG_INVALID: The configuration has 2 problems:',
      '  - conections: unknown key; remove it or correct its spelling (see docs/configuration.md)',
      '  - connections.cyera-prod.baseURL: unknown key; remove it or correct its spelling (see connectors/cyera/README.md)',
    ],
  },
  {
    mistake: 'a connection of an unknown connector and a policy for one',
    config: `${CYERA}  other:\n    connector: nosuch\npolicy:\n  connectors:\n    nosuch: {}\n`,
    printed: [
      'error CONFIG_INVALID: The configuration has 2 problems:',
      '  - policy.connectors.nosuch: no connector of that name; use one of anaplan, cyera, cyral (see docs/configuration.md#connections)',
      '  - connections.other.connector: no connector of that name; use one of anaplan, cyera, cyral (see docs/configuration.md#connections)',
    ],
  },
  {
    mistake: 'a literal credential where a reference belongs',
    config: CYERA.replace('env://CYERA_SECRET', SECRET),
    printed: [
      'error CONFIG_INVALID: The configuration has 1 problem:',
      '  - connections.cyera-prod.credentials.secret: SECRET_INVALID_REF: Invalid secret reference: it has no scheme:// prefix; credentials are always references, never literal values. Expected scheme://locator[?params][#selector], e.g. aws-sm://prod/db?version=AWSPREVIOUS#password (see docs/secrets.md)',
    ],
  },
  {
    mistake: 'params the connector does not take, in a config job',
    config: `${CYERA}jobs:\n  - id: nightly\n    connection: cyera-prod\n    params: { datastore: [a] }\n`,
    printed: [
      'error CONFIG_INVALID: The configuration has 1 problem:',
      '  - jobs[0].params.datastore: unknown key; remove it or correct its spelling (see connectors/cyera/README.md)',
    ],
  },
  {
    mistake: 'a schedule with both cron and everySeconds',
    config: `${CYERA}jobs:\n  - id: nightly\n    connection: cyera-prod\n    schedule: { cron: '0 2 * * *', everySeconds: 3600 }\n`,
    printed: [
      'error CONFIG_INVALID: The configuration has 1 problem:',
      '  - jobs[0].schedule.cron: give exactly one of cron or everySeconds (see docs/configuration.md#jobs)',
    ],
  },
  {
    mistake: 'a file:// reference outside the built-in profile while a profile "files" exists',
    config: `${CYERA.replace('env://CYERA_SECRET', 'file:///opt/app/cyera-secret')}secretStores:\n  files:\n    type: file\n    allow: ['/opt/app/*']\n`,
    printed: [
      'error CONFIG_INVALID: The configuration has 1 problem:',
      '  - connections.cyera-prod.credentials.secret: SECRET_REF_DENIED: The reference has no ?store=, so the built-in file profile applies, and it allows only /var/run/secrets/**, /etc/perimeter/secrets/**, /run/secrets/**. Move the secret there, or name one of the configured file profiles (files) with ?store=<profile> (see docs/secrets.md)',
    ],
  },
  {
    mistake: 'an aws-sm:// reference with no aws-sm profile',
    config: CYERA.replace('env://CYERA_SECRET', 'aws-sm://prod/cyera#secret'),
    printed: [
      'error CONFIG_INVALID: The configuration has 1 problem:',
      '  - connections.cyera-prod.credentials.secret: SECRET_INVALID_REF: aws-sm:// references without ?store= use the profile "aws-sm", which is not configured: there is no profile of type aws-sm; add secretStores.aws-sm (type: aws-sm, allow: [...]), the default profile of aws-sm:// references (see docs/secrets.md)',
    ],
  },
  {
    mistake: 'a ?store= naming a profile that does not exist',
    config: `${CYERA.replace('env://CYERA_SECRET', 'file:///opt/app/s?store=filez')}secretStores:\n  files:\n    type: file\n    allow: ['/opt/app/*']\n  more:\n    type: file\n    allow: ['/srv/*']\n`,
    printed: [
      'error CONFIG_INVALID: The configuration has 1 problem:',
      '  - connections.cyera-prod.credentials.secret: SECRET_INVALID_REF: No secret store profile "filez" (named by ?store=): profiles of type file: files, more, file (built-in); name one with ?store=<profile> (see docs/secrets.md)',
    ],
  },
  {
    mistake: 'a reference carrying a credential-looking param',
    config: CYERA.replace('env://CYERA_SECRET', `env://CYERA_SECRET?token=${SECRET}`),
    printed: [
      'error CONFIG_INVALID: The configuration has 1 problem:',
      '  - connections.cyera-prod.credentials.secret: SECRET_INVALID_REF: Invalid secret reference: the param "token" looks like a credential; credentials belong in the store profile (secretStores.<profile>), never in a reference. Expected scheme://locator[?params][#selector], e.g. aws-sm://prod/db?version=AWSPREVIOUS#password (see docs/secrets.md)',
    ],
  },
  {
    mistake: 'a job file with a misspelt key and an inline connection without connector',
    config: CYERA,
    job: 'connecter: cyera\nconnection:\n  credentials: {}\n',
    printed: [
      'error JOB_INVALID: The job file job.yaml has 2 problems:',
      '  - connecter: unknown key; remove it or correct its spelling (see docs/job-file.md)',
      '  - connector: an inline connection needs `connector` (e.g. connector: cyera) (see docs/job-file.md)',
    ],
  },
  {
    mistake: 'a misspelt connection key and a job file naming a connection the config lacks',
    config: `${CYERA}    baseURL: https://api.cyera.io\n`,
    job: 'connection: cyera-test\n',
    printed: [
      'error CONFIG_INVALID: The configuration and the job file job.yaml have 2 problems:',
      '  - connections.cyera-prod.baseURL: unknown key; remove it or correct its spelling (see connectors/cyera/README.md)',
      '  - job.yaml: connection: No connection "cyera-test" is defined under `connections` (see docs/job-file.md)',
    ],
  },
  {
    mistake: 'a bad log level and a job file naming a connection the config lacks',
    config: `${CYERA}agent:\n  logLevel: loud\n`,
    job: 'connection: cyera-test\n',
    printed: [
      'error CONFIG_INVALID: The configuration and the job file job.yaml have 2 problems:',
      '  - agent.logLevel: Invalid option: expected one of "fatal"|"error"|"warn"|"info"|"debug"|"trace"|"silent" (see docs/configuration.md#agent)',
      '  - job.yaml: connection: No connection "cyera-test" is defined under `connections` (see docs/job-file.md)',
    ],
  },
  {
    mistake: 'a job file with params of another connector',
    config: CYERA,
    job: 'connection: cyera-prod\nparams:\n  workspaces: [w1]\n',
    printed: [
      'error JOB_INVALID: The job file job.yaml has 1 problem:',
      '  - params.workspaces: unknown key; remove it or correct its spelling (see connectors/cyera/README.md)',
    ],
  },
  {
    mistake: 'an unknown connector in the job file and no catalog',
    config: CYERA,
    job: 'connector: nosuch\nconnection: {}\n',
    argv: ['run', 'job.yaml'],
    printed: [
      'error CONFIG_INVALID: The configuration and the job file job.yaml have 2 problems:',
      '  - catalog.url: no catalog is configured; set catalog.url (PERIMETER_CATALOG_URL), or write to a directory with --output DIR (see docs/configuration.md#catalog)',
      '  - job.yaml: connector: No connector named "nosuch"; known: anaplan, cyera, cyral (see docs/job-file.md)',
    ],
  },
  {
    mistake: 'a misspelt flag',
    config: CYERA,
    argv: ['run', 'job.yaml', '--outptu', 'out'],
    printed: [
      "error: Unknown option '--outptu'. To specify a positional argument starting with a '-', place it at the end of the command after '--', as in '-- \"--outptu\"",
      'Run perimeter --help for usage.',
    ],
  },
  {
    mistake: 'run without a job file',
    config: CYERA,
    argv: ['run'],
    printed: [
      'error JOB_INVALID: JOB_FILE is missing. Usage: perimeter run JOB_FILE [--output DIR]',
    ],
  },
];

async function attempt(mistake: Mistake): Promise<{ code: number; stderr: string; all: string }> {
  const dir = tempDir('mistake');
  const argv = [...(mistake.argv ?? ['run', 'job.yaml', '--output', 'out'])];
  if (mistake.config !== undefined) {
    writeFileSync(join(dir, 'config.yaml'), mistake.config);
  }
  writeFileSync(join(dir, 'job.yaml'), mistake.job ?? JOB);
  const env = {
    ...(mistake.config === undefined ? {} : { PERIMETER_CONFIG: 'config.yaml' }),
    CYERA_CLIENT_ID: 'id',
    CYERA_SECRET: 'secret',
    ...mistake.env,
  };
  const io = captureIo(env, dir);
  const code = await runCli(argv, io, registry);
  return { code, stderr: io.err.join(''), all: io.text() };
}

describe('every input mistake is reported at once, each with its key and fix', () => {
  it.each(MISTAKES.map((m) => [m.mistake, m] as const))('%s', async (_name, mistake) => {
    const { code, stderr, all } = await attempt(mistake);
    if (process.env['DUMP_MISTAKES'] === '1') {
      process.stdout.write(`@@${mistake.mistake}\n${stderr}@@END\n`);
    }
    expect(code).toBe(2);
    expect(stderr.split('\n').filter((line) => !line.startsWith('  what to do'))).toEqual([
      ...mistake.printed,
      '',
    ]);
    expect(all).not.toContain(SECRET);
  });
});

import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import type { RunSpec } from '../run/types.ts';
import { readYamlText } from './yaml-text.ts';
import { DOCS, problemsError, problemsFromZod } from '../run/problems.ts';
import type { ConfigProblem } from '../run/problems.ts';
import {
  ConnectionIdSchema,
  ConnectorNameSchema,
  OperationSchema,
  ParamsSchema,
  RunFieldsSchema,
  RunIdSchema,
} from '../run/spec.ts';

const INLINE_NEEDS_CONNECTOR = 'an inline connection needs `connector` (e.g. connector: cyera)';

/**
 * A job file: one run's instruction in local form (docs/job-file.md), the run model's run
 * (agent/run/spec.ts) with `connector` and `connection` at the top level and an optional run id.
 */
export const JobFileSchema = RunFieldsSchema.omit({
  connectionId: true,
  connection: true,
  origin: true,
})
  .extend({
    connector: ConnectorNameSchema.optional().describe(
      'Connector name; required with an inline connection.',
    ),
    operation: OperationSchema.default('extract').describe('extract, discover or check.'),
    connection: z
      .union([ConnectionIdSchema, ParamsSchema])
      .describe('Inline connection settings, or the id of a connection in the config file.'),
    params: ParamsSchema.default({}).describe("The operation's params."),
    runId: RunIdSchema.optional().describe('Run id; generated when absent.'),
  })
  .refine((job) => typeof job.connection === 'string' || job.connector !== undefined, {
    message: INLINE_NEEDS_CONNECTOR,
    path: ['connector'],
  });

/** The refinement above only runs on an otherwise valid file; checked by hand on a bad one. */
function lacksConnector(raw: unknown): boolean {
  if (typeof raw !== 'object' || raw === null) {
    return false;
  }
  const job = raw as Record<string, unknown>;
  return typeof job['connection'] === 'object' && job['connector'] === undefined;
}

/**
 * Parses a job file (YAML or JSON) into a RunSpec. Shape problems throw JOB_INVALID listing
 * every key path at once; the connector, its settings, params and secret references are checked
 * by the executor before anything runs.
 */
export function parseJobFile(
  path: string,
  text: string,
  newRunId: () => string = generateRunId,
): RunSpec {
  const { spec, problems } = inspectJobFile(path, text, newRunId);
  if (spec === undefined) {
    throw problemsError('JOB_INVALID', `The job file ${path}`, problems);
  }
  return spec;
}

/** {@link parseJobFile} without throwing: the spec when the file is well-formed, and its problems. */
export function inspectJobFile(
  path: string,
  text: string,
  newRunId: () => string = generateRunId,
): { spec: RunSpec | undefined; problems: ConfigProblem[] } {
  const reading = readYamlText(text);
  if ('problem' in reading) {
    return { spec: undefined, problems: [{ path, message: reading.problem, see: DOCS.jobFile }] };
  }
  const raw = reading.value;
  const parsed = JobFileSchema.safeParse(raw ?? {});
  if (!parsed.success) {
    const problems = problemsFromZod(parsed.error, [], DOCS.jobFile);
    if (lacksConnector(raw) && !problems.some((problem) => problem.path === 'connector')) {
      problems.push({ path: 'connector', message: INLINE_NEEDS_CONNECTOR, see: DOCS.jobFile });
    }
    return { spec: undefined, problems };
  }
  const job = parsed.data;
  const base = {
    runId: job.runId ?? newRunId(),
    operation: job.operation,
    params: job.params,
    origin: 'local' as const,
  };
  const spec: RunSpec =
    typeof job.connection === 'string'
      ? { ...base, connectionId: job.connection }
      : { ...base, connection: { connector: job.connector ?? '', config: job.connection } };
  return { spec, problems: [] };
}

/** `run-<utc stamp>-<random>`: sortable and unique. */
export function generateRunId(): string {
  const stamp = new Date()
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  return `run-${stamp}-${randomBytes(4).toString('hex')}`;
}

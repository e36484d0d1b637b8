import fc from 'fast-check';
import { stringify as toYaml } from 'yaml';
import { describe, expect, it } from 'vitest';
import { parseJobFile } from '../../../agent/config/job-file.ts';
import { parseRunJob } from '../../../agent/queue/jobs.ts';
import { depth, garbageText, jsonValue, nested, params, parsesOrCoded } from './harness.ts';

const name = fc.stringMatching(/^[a-z][a-z0-9-]{0,20}$/);
const jobFile = fc.record(
  {
    connector: name,
    operation: fc.constantFrom('extract', 'discover', 'check', 'other'),
    connection: fc.oneof(name, fc.dictionary(name, jsonValue, { maxKeys: 4 })),
    params: fc.dictionary(name, jsonValue, { maxKeys: 4 }),
    runId: name,
  },
  { requiredKeys: [] },
);

/** A job file's text, as YAML, JSON, or either cut or spliced with garbage. */
const jobText = fc.oneof(
  jobFile.map((job) => toYaml(job)),
  jobFile.map((job) => JSON.stringify(job)),
  fc.tuple(jobFile, fc.nat(), garbageText).map(([job, at, junk]) => {
    const text = toYaml(job);
    const cut = at % (text.length + 1);
    return `${text.slice(0, cut)}${junk}${text.slice(cut)}`;
  }),
  garbageText,
);

/** Deep nesting in each YAML and JSON spelling. */
const deepText = (levels: number, form: number): string =>
  [
    `connector: fixture\nconnection: {}\nparams:\n  p: ${'['.repeat(levels)}1${']'.repeat(levels)}\n`,
    `{"connector":"fixture","connection":{},"params":{"p":${'{"a":'.repeat(levels)}1${'}'.repeat(levels)}}}`,
    `connector: fixture\nconnection: {}\nparams:\n${Array.from({ length: Math.min(levels, 120) }, (_, i) => `${'  '.repeat(i + 1)}k${i}:`).join('\n')} 1\n`,
  ][form] ?? '';

describe('job files, over generated input', () => {
  it('parse to a run or JOB_INVALID, never another error', () => {
    fc.assert(
      fc.property(jobText, (text) => {
        parsesOrCoded('job file: parse', ['JOB_INVALID'], () =>
          parseJobFile('job.yaml', text, () => 'run-generated'),
        );
      }),
      params(),
    );
  });

  it('refuse deep nesting with JOB_INVALID', () => {
    fc.assert(
      // The depth and form are generated, the text built here: a counterexample stays short.
      fc.property(depth, fc.integer({ min: 0, max: 2 }), (levels, form) => {
        const outcome = parsesOrCoded('job file: deep nesting', ['JOB_INVALID'], () =>
          parseJobFile('job.yaml', deepText(levels, form), () => 'run-generated'),
        );
        if (levels > 64) {
          expect('error' in outcome).toBe(true);
        }
      }),
      params(),
    );
  });
});

describe('queue job payloads, over generated input', () => {
  const payload = fc.oneof(
    jsonValue,
    fc.record(
      {
        kind: fc.constantFrom('run', 'tick'),
        spec: fc.record({
          runId: name,
          connectionId: name,
          operation: fc.constantFrom('extract', 'check'),
          params: fc.dictionary(name, jsonValue, { maxKeys: 3 }),
          origin: fc.constantFrom('local', 'controlPlane'),
        }),
        checkpoint: fc.record({
          cursor: jsonValue,
          nextSeq: fc.integer(),
          assets: fc.nat(),
          bytes: fc.nat(),
        }),
      },
      { requiredKeys: ['kind'] },
    ),
  );

  it('parse to a job or JOB_INVALID, never another error', () => {
    fc.assert(
      fc.property(payload, (data) => {
        parsesOrCoded('queue job: parse', ['JOB_INVALID'], () => parseRunJob(data, 'Job 1'));
      }),
      params(),
    );
  });

  it('refuse a checkpoint cursor or params nested deep with JOB_INVALID', () => {
    fc.assert(
      fc.property(depth, fc.boolean(), (levels, inCursor) => {
        const spec = {
          runId: 'r1',
          connectionId: 'c1',
          operation: 'extract',
          params: inCursor ? {} : { p: nested(levels) },
          origin: 'local',
        };
        const data = {
          kind: 'run',
          spec,
          ...(inCursor
            ? { checkpoint: { cursor: nested(levels), nextSeq: 0, assets: 0, bytes: 0 } }
            : {}),
        };
        const outcome = parsesOrCoded('queue job: deep nesting', ['JOB_INVALID'], () =>
          parseRunJob(data, 'Job 1'),
        );
        if (levels > 64) {
          expect('error' in outcome).toBe(true);
        }
      }),
      params(),
    );
  });
});

import { describe, expect, it } from 'vitest';
import { isPerimeterError } from '../plugin-api/index.ts';
import { generateRunId, parseJobFile } from './job-file.ts';

describe('parseJobFile', () => {
  it('turns an inline job into a local RunSpec', () => {
    const spec = parseJobFile(
      'job.yaml',
      'connector: cyera\nconnection:\n  baseUrl: https://api.cyera.io\n  credentials: { secret: env://S }\nparams: { datastoreUids: [a] }\n',
      () => 'run-1',
    );
    expect(spec).toEqual({
      runId: 'run-1',
      operation: 'extract',
      params: { datastoreUids: ['a'] },
      origin: 'local',
      connection: {
        connector: 'cyera',
        config: { baseUrl: 'https://api.cyera.io', credentials: { secret: 'env://S' } },
      },
    });
  });

  it('accepts a connection id and a JSON file', () => {
    const spec = parseJobFile(
      'job.json',
      '{"connection": "cyera-prod", "operation": "discover", "runId": "r.1"}',
    );
    expect(spec).toMatchObject({ runId: 'r.1', operation: 'discover', connectionId: 'cyera-prod' });
  });

  it('refuses a malformed file listing every problem by key path', () => {
    try {
      parseJobFile(
        'job.yaml',
        'operation: export\nconnection: { baseUrl: x }\nextra: 1\nrunId: "123"\n',
      );
      expect.unreachable();
    } catch (error) {
      expect(isPerimeterError(error, 'JOB_INVALID')).toBe(true);
      const message = (error as Error).message;
      for (const path of ['operation', 'extra', 'runId', 'connector']) {
        expect(message).toContain(`- ${path}`);
      }
    }
  });

  it('generates sortable, unique run ids', () => {
    const a = generateRunId();
    expect(a).toMatch(/^run-\d{8}T\d{6}Z-[0-9a-f]{8}$/);
    expect(generateRunId()).not.toBe(a);
  });
});

import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { formatPath, problemsFromZod } from './problems.ts';

describe('config problems', () => {
  it('render key paths with indexes and dots', () => {
    expect(formatPath(['connections', 'cyera-prod', 'credentials', 'secret'])).toBe(
      'connections.cyera-prod.credentials.secret',
    );
    expect(formatPath(['jobs', 2, 'id'])).toBe('jobs[2].id');
  });

  it('name an empty key, so a problem never points nowhere', () => {
    const schema = z.strictObject({ agent: z.string().optional() });
    const parsed = schema.safeParse({ '': null });
    expect(parsed.success).toBe(false);
    const [problem] = problemsFromZod(parsed.error!);
    expect(problem?.path).toBe('""');
    expect(formatPath(['agent', ''])).toBe('agent.""');
  });
});

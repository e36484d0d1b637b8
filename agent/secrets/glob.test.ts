import { describe, expect, it } from 'vitest';
import { compileGlob, globProblem, matchesAny } from './glob.ts';

describe('compileGlob', () => {
  it.each([
    ['prod/agent/*', 'prod/agent/db', true],
    ['prod/agent/*', 'prod/agent/db/password', false],
    ['prod/agent/*', 'prod/agent/', true],
    ['prod/agent/*', 'prod/agents/db', false],
    ['secret/apps/**', 'secret/apps/agent/openai', true],
    ['secret/apps/**', 'secret/apps', false],
    ['secret/**/db', 'secret/db', true],
    ['secret/**/db', 'secret/a/b/db', true],
    ['secret/**/db', 'secret/a/b/dbx', false],
    ['**/db', 'db', true],
    ['**/db', 'x/y/db', true],
    ['**', 'anything/at/all', true],
    ['CYERA_*', 'CYERA_CLIENT_ID', true],
    ['CYERA_*', 'XCYERA_CLIENT_ID', false],
    ['db-?', 'db-1', true],
    ['db-?', 'db-12', false],
    ['db-?', 'db-/', false],
    ['prod.db', 'prodxdb', false],
    ['a+b(c)', 'a+b(c)', true],
    ['/var/run/secrets/**', '/var/run/secrets/kubernetes.io/serviceaccount/token', true],
    ['/var/run/secrets/**', '/var/run/secretsX/token', false],
    ['aws-sm://prod/cyera/*', 'aws-sm://prod/cyera/client', true],
    ['aws-sm://prod/cyera/*', 'vault://prod/cyera/client', false],
  ])('%s against %s → %s', (pattern, text, expected) => {
    expect(compileGlob(pattern).matches(text)).toBe(expected);
  });

  it('matches the whole text, not a part of it', () => {
    expect(compileGlob('db').matches('prod/db')).toBe(false);
    expect(compileGlob('db').matches('db/x')).toBe(false);
  });

  it.each([
    ['', 'it is empty'],
    ['a/***', 'use * (one segment) or ** (any depth), not ***'],
  ])('refuses %j', (pattern, problem) => {
    expect(globProblem(pattern)).toBe(problem);
    expect(() => compileGlob(pattern)).toThrow(problem);
  });

  it('accepts when any glob of a list matches', () => {
    const globs = ['a/*', 'b/**'].map(compileGlob);
    expect(matchesAny(globs, 'b/x/y')).toBe(true);
    expect(matchesAny(globs, 'c')).toBe(false);
    expect(matchesAny([], 'a')).toBe(false);
  });
});

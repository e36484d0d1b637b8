import { describe, expect, it } from 'vitest';
import { PerimeterError } from './errors.ts';
import { SecretValue } from './secrets.ts';
import type { SecretStoreDeps } from './secrets.ts';
import {
  causeChain,
  causeCodes,
  isNetworkFailure,
  isTlsFailure,
  resolveCredential,
  storeClosedError,
} from './store-errors.ts';

function coded(message: string, code: string, cause?: unknown): Error {
  return Object.assign(new Error(message, { cause }), { code });
}

describe('store error helpers', () => {
  it('walks the cause chain outermost first, bounded in depth', () => {
    const inner = coded('connect ECONNREFUSED 127.0.0.1:1', 'ECONNREFUSED');
    const outer = new Error('request failed', { cause: new Error('wrapped', { cause: inner }) });
    expect(causeChain(outer).map((link) => link['message'])).toEqual([
      'request failed',
      'wrapped',
      'connect ECONNREFUSED 127.0.0.1:1',
    ]);
    expect(causeCodes(outer)).toEqual(['ECONNREFUSED']);
    const loop: { cause?: unknown } = {};
    loop.cause = loop;
    expect(causeChain(loop, 4)).toHaveLength(4);
  });

  it('recognises a TLS trust failure by code or, when an SDK re-wrapped it, by message', () => {
    expect(isTlsFailure(coded('x', 'SELF_SIGNED_CERT_IN_CHAIN'))).toBe(true);
    expect(isTlsFailure(new Error('14 UNAVAILABLE: unable to verify the first certificate'))).toBe(
      true,
    );
    expect(isTlsFailure(new Error('outer', { cause: coded('y', 'CERT_HAS_EXPIRED') }))).toBe(true);
    expect(isTlsFailure(coded('connect ECONNREFUSED', 'ECONNREFUSED'))).toBe(false);
  });

  it('recognises socket-level failures by code or by error name', () => {
    expect(isNetworkFailure(new Error('x', { cause: coded('reset', 'ECONNRESET') }))).toBe(true);
    expect(isNetworkFailure(Object.assign(new Error('t'), { name: 'TimeoutError' }))).toBe(true);
    expect(isNetworkFailure(coded('denied', 'AccessDeniedException'))).toBe(false);
  });

  it('makes a final SECRET_UNAVAILABLE for a closed store', () => {
    const error = storeClosedError('vault', 'team-a');
    expect(error).toMatchObject({ code: 'SECRET_UNAVAILABLE', retryable: false });
    expect(error.message).toBe('The vault profile team-a is closed.');
  });
});

/** Deps whose `resolve` serves `values` and whose `redact` records (no test helpers here). */
function credentialDeps(values: Record<string, string> = {}): {
  deps: SecretStoreDeps;
  redacted: string[];
} {
  const redacted: string[] = [];
  const silent = { debug: () => undefined, info: () => undefined };
  const logger = { ...silent, warn: () => undefined, error: () => undefined, child: () => logger };
  const deps: SecretStoreDeps = {
    profileName: 'test',
    logger,
    network: { extraCaPem: undefined, httpsProxy: undefined, noProxy: undefined },
    environment: {},
    redact: (value) => redacted.push(value),
    resolve: (ref) =>
      values[ref] === undefined
        ? Promise.reject(new PerimeterError('SECRET_NOT_FOUND', `Nothing at ${ref}`))
        : Promise.resolve(new SecretValue(values[ref])),
  };
  return { deps, redacted };
}

describe('resolveCredential', () => {
  it('resolves, trims and registers the value with the log redactor', async () => {
    const kit = credentialDeps({ 'file:///run/secret-id': 'the-secret-id\n' });
    const value = await resolveCredential(
      kit.deps,
      { scheme: 'vault', key: 'secretId', ref: 'file:///run/secret-id' },
      AbortSignal.timeout(1_000),
    );
    expect(value).toBe('the-secret-id');
    expect(kit.redacted).toEqual(['the-secret-id']);
  });

  it('keeps the code of a failure and names the profile key and the reference', async () => {
    const kit = credentialDeps();
    const error: unknown = await resolveCredential(
      kit.deps,
      { scheme: 'aws-sm', key: 'accessKeyId', ref: 'env://MISSING' },
      AbortSignal.timeout(1_000),
    ).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(PerimeterError);
    expect(error).toMatchObject({
      code: 'SECRET_NOT_FOUND',
      context: { store: 'aws-sm', profile: 'test', key: 'auth.accessKeyId' },
    });
    expect((error as Error).message).toContain(
      'could not resolve auth.accessKeyId (env://MISSING)',
    );
  });

  it('gives up with the caller’s reason when the caller aborts', async () => {
    const kit = credentialDeps();
    const reason = new Error('closing');
    const never = { ...kit.deps, resolve: () => new Promise<never>(() => undefined) };
    const controller = new AbortController();
    const pending = resolveCredential(
      never,
      { scheme: 'vault', key: 'token', ref: 'file:///vault/token' },
      controller.signal,
    );
    controller.abort(reason);
    await expect(pending).rejects.toBe(reason);
  });
});

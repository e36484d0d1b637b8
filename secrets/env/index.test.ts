import { describe, expect, it } from 'vitest';
import { parseSecretRef } from '../../agent/secrets/ref.ts';
import { testStoreDeps } from '../../test/helpers/store-deps.ts';
import { createEnvStore, envStore } from './index.ts';

const ref = (text: string): ReturnType<typeof parseSecretRef> => parseSecretRef(text, [envStore]);
const signal = new AbortController().signal;

describe('env store', () => {
  const client = createEnvStore({ environment: { CYERA_SECRET: 'env-value', EMPTY: '' } }).create(
    {},
    testStoreDeps().deps,
  );

  it('reads a variable of the environment it was given', async () => {
    const fetched = await client.fetch(client.canonicalize(ref('env://CYERA_SECRET')), { signal });
    expect(fetched).toEqual({ value: Buffer.from('env-value'), versionId: undefined });
  });

  it.each(['env://MISSING', 'env://EMPTY'])('answers %s with SECRET_NOT_FOUND', async (text) => {
    await expect(client.fetch(client.canonicalize(ref(text)), { signal })).rejects.toMatchObject({
      code: 'SECRET_NOT_FOUND',
      context: { ref: text },
    });
  });

  it.each([
    ['env://1ABC', /not a variable name/],
    ['env://A-B', /not a variable name/],
    ['env://a/b', /not a variable name/],
    ['env://ABC?version=2', /no versions/],
  ])('refuses %s', (text, message) => {
    expect(() => client.canonicalize(ref(text))).toThrow(message);
  });

  it('reads the environment the resolver puts in its deps', async () => {
    const deps = { ...testStoreDeps().deps, environment: { FROM_DEPS: 'deps-value' } };
    const fromDeps = envStore.create({}, deps);
    const fetched = await fromDeps.fetch(fromDeps.canonicalize(ref('env://FROM_DEPS')), { signal });
    expect(fetched.value.toString()).toBe('deps-value');
  });

  it('reads the environment the agent hands to every store', async () => {
    const fromDeps = envStore.create(
      {},
      testStoreDeps({ environment: { CYERA_SECRET: 'from-the-agent-env' } }).deps,
    );
    const fetched = await fromDeps.fetch(fromDeps.canonicalize(ref('env://CYERA_SECRET')), {
      signal: AbortSignal.timeout(1_000),
    });
    expect(fetched.value.toString()).toBe('from-the-agent-env');
  });

  it('honours an aborted signal', async () => {
    const aborted = AbortSignal.abort(new Error('stop'));
    await expect(
      client.fetch(client.canonicalize(ref('env://CYERA_SECRET')), { signal: aborted }),
    ).rejects.toThrow('stop');
  });
});

import { afterEach, describe, expect, it } from 'vitest';
import { isPerimeterError } from '../../agent/plugin-api/index.ts';
import { startCyralHarness } from '../../test/fakes/cyral/harness.ts';
import type { CyralHarness } from '../../test/fakes/cyral/harness.ts';
import { CyralClient } from './client.ts';
import { READS } from './reads.ts';
import { bearer } from './token.ts';

let harness: CyralHarness | undefined;

afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

async function setUp(): Promise<{ h: CyralHarness; client: CyralClient }> {
  const h = await startCyralHarness({ seed: 5 });
  harness = h;
  return { h, client: new CyralClient({ ...h.context(), clock: h.clock }) };
}

async function failureOf(run: Promise<unknown>): Promise<unknown> {
  return run.then(
    () => undefined,
    (error: unknown) => error,
  );
}

describe('cyral client', () => {
  it('authenticates with Bearer spelt with a capital B, which the control plane insists on', async () => {
    const { h } = await setUp();
    const form = new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: h.simulator.clientId,
      client_secret: h.simulator.clientSecret,
    });
    const answer = await fetch(`${h.simulator.url}/v1/users/oidc/token`, {
      method: 'POST',
      body: form,
    });
    const body = (await answer.json()) as { access_token: string; token_type: string };
    expect(body.token_type).toBe('bearer');
    const call = (authorization: string): Promise<Response> =>
      fetch(`${h.simulator.url}/v1/systemInfo`, { headers: { authorization } });
    const lower = await call(`bearer ${body.access_token}`);
    expect(lower.status).toBe(401);
    expect(await lower.text()).toContain("should not contain 'bearer '");
    const token = {
      accessToken: body.access_token,
      expiresAtMs: 0,
      refreshToken: undefined,
      refreshExpiresAtMs: undefined,
    };
    expect((await call(bearer(token))).status).toBe(200);
  });

  it('reads a NotFound answered with 500 as missing, and retries a 500 that is not one', async () => {
    const { h, client } = await setUp();
    h.simulator.notFoundStatus(500);
    const unbound = h.simulator.tenant.repoId(4);
    expect(await client.readOptional(READS.accessGateway.at(unbound))).toBeUndefined();
    h.simulator.failWith(500, 2);
    const bound = h.simulator.tenant.repoId(0);
    const gateway = await client.readOptional(READS.accessGateway.at(bound));
    expect(gateway?.accessGateway?.sidecarId).toBe(h.simulator.tenant.sidecarId(0));
    expect(h.simulator.stats().serverErrors).toBe(2);
  });

  it('fails a per-object read that keeps answering 500, naming the endpoint and no id', async () => {
    const { h, client } = await setUp();
    h.simulator.failWith(500);
    const repoId = h.simulator.tenant.repoId(0);
    const error = await failureOf(client.readOptional(READS.accessGateway.at(repoId)));
    expect(isPerimeterError(error, 'SOURCE_UNAVAILABLE')).toBe(true);
    expect((error as Error).message).toContain('GET /v1/repos/{id}/accessGateway after 4 attempts');
    expect((error as Error).message).not.toContain(repoId);
  });

  it('pages the bindings filter by the last id until the total is reached', async () => {
    const { h } = await setUp();
    const client = new CyralClient({
      ...h.context({ config: { bindingsPageSize: 1 } }),
      clock: h.clock,
    });
    const ids: string[] = [];
    for await (const id of client.bindingIds(h.simulator.tenant.sidecarId(0))) {
      ids.push(id);
    }
    const { tenant } = h.simulator;
    expect(ids).toEqual(
      tenant
        .boundRepos(0)
        .map((r) => tenant.bindingId(r))
        .sort(),
    );
    const pages = h.simulator.targets().filter((t) => t.includes('composedBindings'));
    expect(pages).toHaveLength(ids.length);
    expect(pages[1]).toContain(`pageAfter=${ids[0] ?? ''}`);
  });
});

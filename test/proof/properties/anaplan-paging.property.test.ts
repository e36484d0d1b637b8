import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ConnectorEvent, JsonValue } from '../../../agent/plugin-api/index.ts';
import type { AnaplanContext } from '../../../connectors/anaplan/extract.ts';
import { ANAPLAN_TYPES } from '../../../connectors/anaplan/map.ts';
import { readAll, startAnaplanHarness } from '../../fakes/anaplan/harness.ts';
import type { AnaplanHarness } from '../../fakes/anaplan/harness.ts';
import { makeUserCertificate } from '../../fakes/anaplan/pki.ts';
import type { UserCertificate } from '../../fakes/anaplan/pki.ts';
import type { AnaplanTenantSize, SimulatedTenant } from '../../fakes/anaplan/tenant.ts';
import { countByType } from '../../helpers/connector-harness.ts';
import { proofRuns } from '../mode.ts';
import { EXCHANGE_TIME_BOUND_MS, params } from './harness.ts';

// Anaplan's listings page by `offset` and `limit`, and the source may end a page before `limit`
// (it truncates a larger one silently). For any tenant, page size and places where the source
// ends its pages, the real connector against the simulator over HTTP reads every item once and
// stops, and a run resumed from any checkpoint it emitted reads exactly what came after it.

/** Each input is one extract and one resumed extract over loopback HTTP (~0.1 s each). */
const RUNS = proofRuns({ ci: 25, long: 500 });

const tenantSize = fc.record({
  workspaces: fc.integer({ min: 0, max: 3 }),
  modelsPerWorkspace: fc.integer({ min: 0, max: 3 }),
  listsPerModel: fc.integer({ min: 0, max: 4 }),
  modulesPerModel: fc.integer({ min: 0, max: 3 }),
  lineItemsPerModule: fc.integer({ min: 0, max: 6 }),
  archived: fc.integer({ min: 0, max: 1 }),
  forbidden: fc.integer({ min: 0, max: 1 }),
});

/** The `limit` asked: small, so that listings take many pages, or Anaplan's cap. */
const pageSize = fc.oneof(fc.integer({ min: 1, max: 6 }), fc.constant(5000));

/**
 * Where the source ends each page: the most items it serves from an offset, taken in turn from a
 * generated list by the offset and the listing, so each listing is cut at its own places.
 */
const pageEnds = fc.array(fc.integer({ min: 1, max: 6 }), { minLength: 1, maxLength: 6 });

/**
 * Far more pages than an input's two extracts can need (each page holds an item, and the
 * largest tenant holds about 300 items in all): a client that asks for more does not stop.
 */
const PAGE_BOUND = 2_000;

let certificate: UserCertificate & { readonly passphrase: string };

beforeAll(() => {
  // Made once: the harness would otherwise make a key pair for every input.
  certificate = { ...makeUserCertificate({ passphrase: 'paging' }), passphrase: 'paging' };
});

/** How many assets of each type the whole tenant yields, from its size alone. */
function expectedCounts(tenant: SimulatedTenant): Record<string, number> {
  const { size } = tenant;
  const counts: Record<string, number> = {};
  const add = (type: string, n: number): void => {
    if (n > 0) counts[type] = (counts[type] ?? 0) + n;
  };
  add(ANAPLAN_TYPES.workspace, size.workspaces);
  for (const ref of tenant.modelRefs()) {
    if (tenant.isArchived(ref)) {
      add(ANAPLAN_TYPES.model, 1);
    } else if (!tenant.isForbidden(ref)) {
      add(ANAPLAN_TYPES.model, 1);
      add(ANAPLAN_TYPES.list, size.listsPerModel);
      add(ANAPLAN_TYPES.dimension, 2);
      add(ANAPLAN_TYPES.version, 2);
      add(ANAPLAN_TYPES.module, size.modulesPerModel);
      add(ANAPLAN_TYPES.view, tenant.viewCount());
      add(ANAPLAN_TYPES.lineItem, tenant.lineItemCount());
    }
  }
  return counts;
}

/** How many items the paged listing at `path` holds, or undefined for a path that is not one. */
function listingTotal(tenant: SimulatedTenant, path: string): number | undefined {
  const { size } = tenant;
  if (path === '/2/0/workspaces') return size.workspaces;
  if (path === '/2/0/models') return tenant.modelRefs().length;
  const resource = /\/models\/[^/]+\/([^/]+)$/.exec(path)?.[1];
  const totals: Record<string, number> = {
    lists: size.listsPerModel,
    modules: size.modulesPerModel,
    lineItems: tenant.lineItemCount(),
    views: tenant.viewCount(),
    versions: 2,
  };
  return resource === undefined ? undefined : totals[resource];
}

/**
 * The pages asked of each listing, in order: they start at 0 and move on strictly, each one
 * inside the listing (none after its last item): every item read once, and the paging ended.
 */
function expectPagesOnce(harness: AnaplanHarness, fromTarget: number): void {
  const offsets = new Map<string, number[]>();
  for (const target of harness.simulator.targets().slice(fromTarget)) {
    const url = new URL(target, 'http://simulator');
    const offset = url.searchParams.get('offset');
    if (offset === null) continue;
    offsets.set(url.pathname, [...(offsets.get(url.pathname) ?? []), Number(offset)]);
  }
  for (const [path, asked] of offsets) {
    const total = listingTotal(harness.simulator.tenant, path);
    expect(total, path).toBeDefined();
    expect(asked[0], path).toBe(0);
    expect(
      asked.every((offset, i) => i === 0 || offset > (asked[i - 1] ?? 0)),
      `${path} asked ${asked.join(',')}`,
    ).toBe(true);
    expect(
      asked.every((offset) => offset === 0 || offset < (total ?? 0)),
      path,
    ).toBe(true);
  }
}

const namesOf = (events: readonly ConnectorEvent[]): string[] =>
  events.flatMap((e) => (e.type === 'asset' ? [e.asset.qualifiedName] : [])).sort();

/** A simulator of `size` ending its pages at `ends`, and contexts asking `limit` a page. */
async function pagedSource(
  size: Partial<AnaplanTenantSize>,
  ends: readonly number[],
  limit: number,
): Promise<{ harness: AnaplanHarness; context: (cursor?: JsonValue) => AnaplanContext }> {
  const harness = await startAnaplanHarness({ size, certificate });
  // Paging that does not end is stopped here, not by the test's timeout.
  const runaway = new AbortController();
  let pagesServed = 0;
  harness.simulator.endPagesAt((path, offset) => {
    pagesServed += 1;
    if (pagesServed > PAGE_BOUND) {
      runaway.abort(new Error(`paging did not end: ${String(PAGE_BOUND)} pages served`));
    }
    return ends[(offset + path.length) % ends.length] ?? 1;
  });
  const context = (cursor?: JsonValue): AnaplanContext =>
    harness.context({
      config: { pageSize: limit },
      signal: AbortSignal.any([runaway.signal, AbortSignal.timeout(EXCHANGE_TIME_BOUND_MS)]),
      ...(cursor === undefined ? {} : { cursor }),
    });
  return { harness, context };
}

describe('Anaplan paging, through the real client and the simulator over HTTP', () => {
  it('reads every item once and stops, and resumes from any checkpoint with exactly the rest', async () => {
    await fc.assert(
      fc.asyncProperty(
        tenantSize,
        pageSize,
        pageEnds,
        fc.nat(),
        async (size, limit, ends, pick) => {
          const { harness, context } = await pagedSource(size, ends, limit);
          try {
            const full = await readAll(context());
            const names = namesOf(full.events);
            expect(new Set(names).size).toBe(names.length);
            expect(countByType(full.assets)).toEqual(expectedCounts(harness.simulator.tenant));
            expectPagesOnce(harness, 0);

            const checkpoints = full.events.flatMap((event, at) =>
              event.type === 'checkpoint' ? [{ at, cursor: event.cursor }] : [],
            );
            const chosen = checkpoints[pick % Math.max(checkpoints.length, 1)];
            if (chosen === undefined) {
              // No workspace: nothing to read, nothing to resume from.
              expect(full.assets).toEqual([]);
              return;
            }
            const before = harness.simulator.targets().length;
            const resumed = await readAll(context(chosen.cursor));
            expect(namesOf(resumed.events)).toEqual(namesOf(full.events.slice(chosen.at + 1)));
            expectPagesOnce(harness, before);
            // A model the cursor names as done is not opened again.
            const done = (chosen.cursor as { modelIds: string[] }).modelIds;
            const reopened = harness.simulator
              .targets()
              .slice(before)
              .filter((target) => done.some((id) => target.includes(`/models/${id}/`)));
            expect(reopened).toEqual([]);
          } finally {
            await harness.close();
          }
        },
      ),
      params(RUNS),
    );
  });
});

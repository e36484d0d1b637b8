import { CYRAL_TYPES } from './names.ts';
import type { SkipTally } from './skipped.ts';

/**
 * The listed objects a run extracts, in id order: all of them, or those whose ids the params
 * select. A selected id the control plane does not list is skipped (counted and logged), so a
 * repository deleted since the selection was made does not fail the run.
 */
export function selectById<T extends { readonly id: string }>(
  listed: readonly T[],
  selectedIds: readonly string[],
  kind: 'repository' | 'sidecar',
  skipped: SkipTally,
): T[] {
  const byId = new Map(listed.map((item) => [item.id, item]));
  const chosen =
    selectedIds.length === 0
      ? [...byId.values()]
      : [...new Set(selectedIds)].flatMap((id) => {
          const item = byId.get(id);
          if (item === undefined) {
            const endpoint = kind === 'repository' ? 'GET /v1/repos' : 'GET /v1/sidecars';
            const type = kind === 'repository' ? CYRAL_TYPES.repository : CYRAL_TYPES.sidecar;
            skipped.skip(
              type,
              'notFound',
              { endpoint, [`${kind}Id`]: id },
              `${endpoint} does not list it`,
            );
            return [];
          }
          return [item];
        });
  return chosen.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

import type { ConnectorEvent } from '../../agent/plugin-api/index.ts';
import { bindingToAsset, listenerToAsset, sidecarToAsset } from './map.ts';
import { CYRAL_TYPES } from './names.ts';
import { READS } from './reads.ts';
import type { Binding, SidecarEntry } from './records.ts';
import { asset, readOrSkip } from './scope.ts';
import type { RunScope } from './scope.ts';

/**
 * One sidecar: its version, health and instances, its listeners, and its bindings (ids from the
 * paginated filter, each binding then read by id). Whatever answers NotFound is skipped; the
 * sidecar itself is always emitted from its listing entry.
 */
export async function* sidecarAssets(
  scope: RunScope,
  entry: SidecarEntry,
): AsyncGenerator<ConnectorEvent> {
  const { client, tenant } = scope;
  const ids = { sidecarId: entry.id };
  const [v2, health, instances, listeners] = await Promise.all([
    readOrSkip(scope, 'sidecarVersion', READS.sidecarV2.at(entry.id), ids),
    readOrSkip(scope, 'sidecarHealth', READS.sidecarHealth.at(entry.id), ids),
    readOrSkip(scope, 'sidecarInstances', READS.sidecarInstances.at(entry.id), ids),
    readOrSkip(scope, 'listeners', READS.listeners.at(entry.id), ids),
  ]);
  const bindings: Binding[] = [];
  for await (const bindingId of client.bindingIds(entry.id)) {
    const request = READS.binding.at(entry.id, bindingId);
    const found = await readOrSkip(scope, CYRAL_TYPES.binding, request, { ...ids, bindingId });
    if (found !== undefined) {
      bindings.push(found.binding);
    }
  }
  yield asset(
    sidecarToAsset(tenant, entry, {
      version: v2?.sidecar.version,
      health: health?.status,
      instances: instances?.instances ?? [],
      bindingCount: bindings.length,
    }),
  );
  for (const listener of listeners?.listenerConfigs ?? []) {
    yield asset(listenerToAsset(tenant, entry.id, listener));
  }
  for (const binding of bindings) {
    yield asset(bindingToAsset(tenant, entry.id, binding, scope.repoIds));
  }
}

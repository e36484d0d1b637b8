import type { ConnectorEvent } from '../../agent/plugin-api/index.ts';
import { dataMapAssets, parseDataMap } from './datamap.ts';
import { accessRuleToAsset, repositoryToAsset, userAccountToAsset } from './map.ts';
import { READS } from './reads.ts';
import type { RepoEntry, UserAccount } from './records.ts';
import { CHUNK_ASSETS, asset, readOrSkip } from './scope.ts';
import type { EventChunk, RunScope } from './scope.ts';

/**
 * One repository: its settings, network access policy and access gateway, its data map as
 * schema → table → column assets tagged with their labels, and its user accounts with their
 * access rules. Whatever answers NotFound is skipped (an unbound repository has no access
 * gateway); the repository itself is always emitted from its listing entry. The data map's
 * assets come in chunks of {@link CHUNK_ASSETS}, an account with its access rules as one chunk.
 */
export async function* repositoryAssets(
  scope: RunScope,
  entry: RepoEntry,
): AsyncGenerator<EventChunk> {
  const { tenant } = scope;
  const ids = { repoId: entry.id };
  const [auth, analysis, networkAccessPolicy, gateway, dataMap, accounts] = await Promise.all([
    readOrSkip(scope, 'repositoryAuth', READS.repoAuth.at(entry.id), ids),
    readOrSkip(scope, 'repositoryAnalysis', READS.repoAnalysis.at(entry.id), ids),
    readOrSkip(scope, 'networkAccessPolicy', READS.networkAccessPolicy.at(entry.id), ids),
    readOrSkip(scope, 'accessGateway', READS.accessGateway.at(entry.id), ids),
    readOrSkip(scope, 'dataMap', READS.dataMap.at(entry.id), ids),
    readOrSkip(scope, 'userAccounts', READS.userAccounts.at(entry.id), ids),
  ]);
  const accessGateway = gateway?.accessGateway ?? undefined;
  const gatewayKnown =
    accessGateway?.sidecarId != null && scope.sidecarIds.has(accessGateway.sidecarId);
  yield [
    asset(
      repositoryToAsset(tenant, entry, {
        auth: auth?.authInfo ?? undefined,
        analysis: analysis?.userConfig ?? undefined,
        networkAccessPolicy,
        accessGateway,
        gatewayKnown,
      }),
    ),
  ];
  if (dataMap !== undefined) {
    const { tree, invalidLocations } = parseDataMap(dataMap);
    if (invalidLocations > 0) {
      const where = { endpoint: READS.dataMap.name, ...ids };
      const message = `${String(invalidLocations)} data-map locations are not schema.table.column`;
      scope.skipped.skip('dataMapLocation', 'invalid', where, message);
    }
    let chunk: ConnectorEvent[] = [];
    for (const item of dataMapAssets(
      { tenant, repoId: entry.id, knownLabels: scope.labels },
      tree,
    )) {
      chunk.push(asset(item));
      if (chunk.length === CHUNK_ASSETS) {
        yield chunk;
        chunk = [];
      }
    }
    if (chunk.length > 0) {
      yield chunk;
    }
  }
  yield* accountAssets(scope, entry.id, accounts?.userAccounts ?? []);
}

async function* accountAssets(
  scope: RunScope,
  repoId: string,
  accounts: readonly UserAccount[],
): AsyncGenerator<EventChunk> {
  const { tenant } = scope;
  const rules = await Promise.all(
    accounts.map((account) => {
      const accountId = account.userAccountID;
      const request = READS.accessRules.at(repoId, accountId);
      return readOrSkip(scope, 'accessRules', request, { repoId, userAccountId: accountId });
    }),
  );
  for (const [index, account] of accounts.entries()) {
    const chunk = [asset(userAccountToAsset(tenant, repoId, account))];
    const place = { tenant, repoId, accountId: account.userAccountID };
    for (const [position, rule] of (rules[index]?.accessRules ?? []).entries()) {
      chunk.push(asset(accessRuleToAsset(place, rule, position)));
    }
    yield chunk;
  }
}

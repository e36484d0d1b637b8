import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { AssetSchema } from '../../agent/plugin-api/index.ts';
import { dataMapAssets, parseDataMap } from './datamap.ts';
import { bindingToAsset, sidecarToAsset, userAccountToAsset } from './map.ts';
import { legacyPolicyToAsset, loggingIntegrationToAsset } from './map-governance.ts';
import { qualifiedName, qn } from './names.ts';
import {
  DataMapSchema,
  SidecarListSchema,
  TokenResponseSchema,
  UserAccountListSchema,
} from './records.ts';
import { LegacyPolicySchema, LoggingIntegrationListSchema } from './records-governance.ts';

function fixture(name: string): unknown {
  return JSON.parse(readFileSync(new URL(`./__fixtures__/${name}`, import.meta.url), 'utf8'));
}

// Every secret-bearing field of the fixtures holds a value with this marker.
const SECRET = 'FIXTURE-SECRET';

const sidecars = SidecarListSchema.parse(fixture('sidecars.json'));
const accounts = UserAccountListSchema.parse(fixture('user-accounts.json')).userAccounts;
const logging = LoggingIntegrationListSchema.parse(fixture('logging-integrations.json'));

describe('cyral records', () => {
  it('drop every secret-bearing field while parsing, before anything is mapped', () => {
    const raw = ['sidecars.json', 'user-accounts.json', 'logging-integrations.json'];
    for (const name of raw) {
      expect(JSON.stringify(fixture(name))).toContain(SECRET);
    }
    expect(JSON.stringify([sidecars, accounts, logging])).not.toContain(SECRET);
  });

  it('keep only the kind of an auth scheme or a logging integration', () => {
    expect(accounts.map((a) => a.authScheme)).toEqual([['cyralStorage'], ['awsSecretsManager']]);
    expect(logging.integrations.map((i) => [i.id, i.kinds])).toEqual([
      ['lg-1', ['datadog']],
      ['lg-2', ['splunk']],
      ['lg-3', ['elk']],
    ]);
  });

  it('read a Keycloak token body whose expiry fields are strings', () => {
    const token = TokenResponseSchema.parse(fixture('token.json'));
    expect(token).toMatchObject({ expires_in: 300, refresh_expires_in: 36_000 });
    expect(TokenResponseSchema.parse({ access_token: 'x', expires_in: 60 }).expires_in).toBe(60);
    expect(TokenResponseSchema.safeParse({ access_token: 'x', expires_in: 'soon' }).success).toBe(
      false,
    );
  });
});

describe('cyral mapping', () => {
  it('maps a user account with its auth scheme kind and a link to its repository', () => {
    const asset = userAccountToAsset('acme', 'repo-1', accounts[0]!);
    expect(AssetSchema.parse(asset)).toEqual(asset);
    expect(asset).toMatchObject({
      qualifiedName: 'cyral/acme/repos/repo-1/accounts/ua-1',
      parentQualifiedName: 'cyral/acme/repos/repo-1',
      attributes: { authSchemeKind: 'cyralStorage', automaticGrant: true },
      relationships: [
        { typeName: 'CyralUserAccountRepository', targetQualifiedName: 'cyral/acme/repos/repo-1' },
      ],
    });
  });

  it('maps a sidecar without its certificate secret references', () => {
    const details = { version: 'v4.10.0', health: 'HEALTHY', instances: [], bindingCount: 2 };
    const asset = sidecarToAsset('acme', sidecars[0]!, details);
    expect(asset.attributes).toEqual({
      id: 'cjb2lmpd1pd0rrudc4eg',
      labels: ['prod'],
      deploymentMethod: 'docker',
      dispatcherBypass: 'failover',
      userEndpoint: 'sidecar.example.com',
      version: 'v4.10.0',
      health: 'HEALTHY',
      instanceCount: 0,
      bindingCount: 2,
    });
  });

  it('links only to assets of the same run', () => {
    const binding = {
      id: 'b-1',
      repoId: 'repo-elsewhere',
      enabled: true,
      listenerBindings: [{ listenerId: 'l-1', nodeIndex: 0 }],
    };
    const unknownRepo = bindingToAsset('acme', 'sc-1', binding, new Set());
    expect(unknownRepo.relationships?.map((r) => r.typeName)).toEqual(['CyralBindingListener']);
    const knownRepo = bindingToAsset('acme', 'sc-1', binding, new Set(['repo-elsewhere']));
    expect(knownRepo.relationships?.[0]).toEqual({
      typeName: 'CyralBindingRepository',
      targetQualifiedName: 'cyral/acme/repos/repo-elsewhere',
    });
    const policy = LegacyPolicySchema.parse(fixture('policy-legacy.json'));
    const mapped = legacyPolicyToAsset('acme', policy, {
      labels: new Set(['CCN']),
      repoIds: new Set(),
    });
    expect(mapped.attributes['dataLabels']).toEqual(['CCN', 'CVV']);
    expect(mapped.relationships).toEqual([
      { typeName: 'CyralPolicyDataLabel', targetQualifiedName: 'cyral/acme/labels/CCN' },
    ]);
  });

  it('maps a logging integration to its name and kind only', () => {
    const asset = loggingIntegrationToAsset('acme', logging.integrations[1]!);
    expect(asset).toMatchObject({
      qualifiedName: 'cyral/acme/integrations/logging/lg-2',
      name: 'audit',
      attributes: { id: 'lg-2', category: 'logging', kind: 'splunk', receiveAuditLogs: false },
    });
  });

  it('builds qualified names from ids, escaping a slash or percent inside a segment', () => {
    expect(qualifiedName('acme', 'repos', 'a/b', '100%')).toBe('cyral/acme/repos/a%2Fb/100%25');
    expect(qn.binding('acme', 'sc-1', 'b-1')).toBe('cyral/acme/sidecars/sc-1/bindings/b-1');
    expect(qn.policyV2('acme', 'global', 'p-1')).toBe('cyral/acme/policies/v2/global/p-1');
  });
});

describe('cyral data map', () => {
  const parsed = parseDataMap(DataMapSchema.parse(fixture('datamap.json')));
  const assets = [
    ...dataMapAssets(
      { tenant: 'acme', repoId: 'r-1', knownLabels: new Set(['CCN', 'EMAIL']) },
      parsed.tree,
    ),
  ];

  it('turns schema.table.column locations into sorted schema, table and column assets', () => {
    expect(assets.map((a) => `${a.typeName} ${a.qualifiedName}`)).toEqual([
      'CyralSchema cyral/acme/repos/r-1/data/crm',
      'CyralTable cyral/acme/repos/r-1/data/crm/contacts',
      'CyralColumn cyral/acme/repos/r-1/data/crm/contacts/email',
      'CyralSchema cyral/acme/repos/r-1/data/finance',
      'CyralTable cyral/acme/repos/r-1/data/finance/cards',
      'CyralColumn cyral/acme/repos/r-1/data/finance/cards/cvv',
      'CyralColumn cyral/acme/repos/r-1/data/finance/cards/number',
      // A Dremio space path keeps its dots: all but the last two parts are the schema.
      'CyralSchema cyral/acme/repos/r-1/data/space.folder',
      'CyralTable cyral/acme/repos/r-1/data/space.folder/payments',
      'CyralColumn cyral/acme/repos/r-1/data/space.folder/payments/card',
    ]);
    for (const asset of assets) {
      expect(AssetSchema.safeParse(asset).success).toBe(true);
    }
  });

  it('tags each column with its labels and links the labels the run knows', () => {
    const number = assets.find((a) => a.qualifiedName.endsWith('/cards/number'));
    expect(number?.classifications).toEqual([
      { typeName: 'CCN (Cyral Data Label)' },
      { typeName: 'EMAIL (Cyral Data Label)' },
    ]);
    expect(number?.relationships?.map((r) => r.targetQualifiedName)).toEqual([
      'cyral/acme/labels/CCN',
      'cyral/acme/labels/EMAIL',
    ]);
  });

  it('counts locations that are not schema.table.column instead of emitting them', () => {
    expect(parsed.invalidLocations).toBe(3);
    expect(assets.some((a) => a.qualifiedName.includes('BROKEN') || a.name === 'ref')).toBe(false);
  });
});

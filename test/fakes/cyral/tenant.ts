import { createHash } from 'node:crypto';

// A simulated Cyral control plane: every record is a pure function of (seed, size, indexes), so a
// tenant of millions of columns costs no memory. Secret-bearing fields carry `planted`, which no
// asset, log line or output file may ever contain.

/** How big the simulated tenant is. */
export interface CyralTenantSize {
  readonly sidecars: number;
  readonly listenersPerSidecar: number;
  readonly repos: number;
  readonly schemasPerRepo: number;
  readonly tablesPerSchema: number;
  readonly columnsPerTable: number;
  readonly accountsPerRepo: number;
  readonly rulesPerAccount: number;
  readonly labels: number;
  readonly legacyPolicies: number;
  readonly policiesV2: number;
  readonly roles: number;
  readonly loggingIntegrations: number;
  readonly ssoIntegrations: number;
  /** Ids the legacy policy list names that answer NotFound (deleted since). */
  readonly stalePolicies: number;
}

export const DEFAULT_CYRAL_SIZE: CyralTenantSize = {
  sidecars: 2,
  listenersPerSidecar: 2,
  repos: 5,
  schemasPerRepo: 2,
  tablesPerSchema: 2,
  columnsPerTable: 3,
  accountsPerRepo: 2,
  rulesPerAccount: 2,
  labels: 6,
  legacyPolicies: 3,
  policiesV2: 2,
  roles: 3,
  loggingIntegrations: 4,
  ssoIntegrations: 1,
  stalePolicies: 1,
};

const REPO_TYPES = ['postgresql', 'mysql', 'snowflake', 'mongodb', 'dremio', 'sqlserver'] as const;
export const PREDEFINED_LABELS = ['CCN', 'EMAIL', 'SSN', 'ADDRESS', 'PHONE', 'DOB'] as const;
const AUTH_SCHEMES = [
  'cyralStorage',
  'awsIAM',
  'awsSecretsManager',
  'hashicorpVault',
  'environmentVariable',
  'kubernetesSecret',
  'gcpSecretManager',
  'azureKeyVault',
] as const;

/** A deterministic Cyral tenant. */
export class CyralTenant {
  readonly seed: number;
  readonly size: CyralTenantSize;
  /** The value of every secret-bearing field. */
  readonly planted: string;
  readonly #indexes = new Map<string, Map<string, number>>();

  constructor(seed: number, size: Partial<CyralTenantSize>, planted: string) {
    this.seed = seed;
    this.size = { ...DEFAULT_CYRAL_SIZE, ...size };
    this.planted = planted;
  }

  /** A stable id of a kind and indexes (hex, 24 characters). */
  id(kind: string, ...indexes: readonly number[]): string {
    const digest = createHash('sha256').update(`${this.seed}:${kind}:${indexes.join('.')}`);
    return digest.digest('hex').slice(0, 24);
  }

  sidecarId(s: number): string {
    return this.id('sidecar', s);
  }

  repoId(r: number): string {
    return this.id('repo', r);
  }

  /** Index of a sidecar id, or undefined. */
  sidecarIndex(id: string): number | undefined {
    return this.indexOf('sidecar', this.size.sidecars, id);
  }

  repoIndex(id: string): number | undefined {
    return this.indexOf('repo', this.size.repos, id);
  }

  /** Every fifth repository is bound to no sidecar: its access gateway answers NotFound. */
  isBound(r: number): boolean {
    return this.size.sidecars > 0 && r % 5 !== 4;
  }

  /** The sidecar repository `r` is bound to (bound repositories only). */
  sidecarOf(r: number): number {
    return r % this.size.sidecars;
  }

  bindingId(r: number): string {
    return this.id('binding', r);
  }

  /** Indexes of the repositories bound to sidecar `s`. */
  boundRepos(s: number): number[] {
    const repos: number[] = [];
    for (let r = 0; r < this.size.repos; r += 1) {
      if (this.isBound(r) && this.sidecarOf(r) === s) repos.push(r);
    }
    return repos;
  }

  /** Display names repeat on purpose (sidecars two by two, repositories three by three). */
  sidecar(s: number): Record<string, unknown> {
    return {
      id: this.sidecarId(s),
      name: `sidecar-${Math.floor(s / 2)}`,
      labels: ['prod', `zone-${s % 3}`],
      properties: {
        deploymentMethod: s % 2 === 0 ? 'docker' : 'helm3',
        logIntegrationID: this.id('logging', 0),
      },
      services: { dispatcher: { bypass: 'failover' } },
      userEndpoint: `sidecar-${s}.example.internal`,
      certificateBundleSecrets: {
        sidecar: { engine: 'aws', secretId: this.planted, type: 'tls' },
      },
      credentials: { clientId: `sidecar-client-${s}`, clientSecret: this.planted },
    };
  }

  listenerId(s: number, l: number): string {
    return this.id('listener', s, l);
  }

  listener(s: number, l: number): Record<string, unknown> {
    const type = REPO_TYPES[l % REPO_TYPES.length] ?? 'postgresql';
    return {
      id: this.listenerId(s, l),
      repoTypes: [type],
      address: { host: '', port: 5432 + l },
      ...(type === 'mysql' ? { mysqlSettings: { dbVersion: '8.0', characterSet: 'utf8mb4' } } : {}),
    };
  }

  binding(r: number): Record<string, unknown> {
    const s = this.sidecarOf(r);
    const listeners = Math.max(1, this.size.listenersPerSidecar);
    return {
      id: this.bindingId(r),
      repoId: this.repoId(r),
      enabled: r % 3 !== 2,
      listenerBindings: [{ listenerId: this.listenerId(s, r % listeners), nodeIndex: 0 }],
    };
  }

  repoType(r: number): string {
    return REPO_TYPES[r % REPO_TYPES.length] ?? 'postgresql';
  }

  repo(r: number): Record<string, unknown> {
    return {
      id: this.repoId(r),
      name: `claims-db-${Math.floor(r / 3)}`,
      type: this.repoType(r),
      repoHost: `db-${r}.internal`,
      repoPort: 5432,
      labels: ['prod'],
      connParams: { connDraining: { auto: true, waitTime: 30 } },
      repoNodes: [{ name: 'node-1', host: `db-${r}.internal`, port: 5432, dynamic: false }],
    };
  }

  authInfo(r: number): Record<string, unknown> {
    return {
      authInfo: {
        allowNativeAuth: r % 2 === 0,
        clientTLS: 'enable',
        identityProvider: r % 2 === 0 ? '' : this.id('sso', 0),
        repoTLS: 'disable',
        authType: 'ACCESS_TOKEN',
      },
    };
  }

  analysis(r: number): Record<string, unknown> {
    return {
      userConfig: {
        alertOnViolation: true,
        blockOnViolation: r % 2 === 1,
        commentAnnotationGroups: ['identity'],
        disableFilterAnalysis: false,
        disablePreConfiguredAlerts: false,
        enableDataMasking: r % 3 === 0,
        maskAllOccurrences: false,
        logGroups: ['everything'],
        redact: 'all',
        enableDatasetRewrites: false,
      },
    };
  }

  networkAccessPolicy(r: number): Record<string, unknown> {
    return {
      enabled: r % 2 === 0,
      networkAccessRules: {
        rulesBlockAccess: false,
        rules: [
          {
            id: this.id('netrule', r),
            name: 'office',
            description: 'office network',
            dbAccounts: ['app_user'],
            sourceIPs: ['10.0.0.0/8', '192.168.1.10'],
          },
        ],
      },
    };
  }

  labelName(k: number): string {
    return k < PREDEFINED_LABELS.length ? (PREDEFINED_LABELS[k] ?? 'CCN') : `CUSTOM_${k}`;
  }

  /** The data map of repository `r`: each column under one label. */
  dataMap(r: number): Record<string, unknown> {
    const { schemasPerRepo, tablesPerSchema, columnsPerTable, labels } = this.size;
    const byLabel = new Map<string, string[]>();
    for (let s = 0; s < schemasPerRepo; s += 1) {
      for (let t = 0; t < tablesPerSchema; t += 1) {
        for (let c = 0; c < columnsPerTable; c += 1) {
          const label = this.labelName((r + s + t + c) % Math.max(1, labels));
          const location = `${this.schemaName(r, s)}.${this.tableName(t)}.col_${c}`;
          const locations = byLabel.get(label);
          if (locations === undefined) byLabel.set(label, [location]);
          else locations.push(location);
        }
      }
    }
    return {
      labels: Object.fromEntries(
        [...byLabel].map(([label, attributes]) => [label, { attributes }]),
      ),
    };
  }

  schemaName(r: number, s: number): string {
    return this.repoType(r) === 'dremio' ? `space_${s}.folder` : `schema_${s}`;
  }

  tableName(t: number): string {
    return t % 5 === 3 ? `orders/${t}` : `table_${t}`;
  }

  accountId(r: number, a: number): string {
    return this.id('account', r, a);
  }

  userAccount(r: number, a: number): Record<string, unknown> {
    const kind = AUTH_SCHEMES[(r + a) % AUTH_SCHEMES.length] ?? 'cyralStorage';
    return {
      userAccountID: this.accountId(r, a),
      name: `app_user_${a}`,
      authDatabaseName: 'admin',
      authScheme: { [kind]: this.authSchemeBody(kind) },
      config: {
        approvalConfig: { automaticGrant: a % 2 === 0, maxAutomaticGrantDuration: '3600s' },
      },
    };
  }

  private authSchemeBody(kind: (typeof AUTH_SCHEMES)[number]): Record<string, unknown> {
    switch (kind) {
      case 'cyralStorage':
        return { password: this.planted };
      case 'awsIAM':
        return { roleARN: 'arn:aws:iam::123456789012:role/db', authenticateAsIAMRole: true };
      case 'awsSecretsManager':
        return { secretARN: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:db' };
      case 'hashicorpVault':
        return { path: 'secret/data/db', isDynamicUserAccount: false };
      case 'environmentVariable':
        return { variableName: 'DB_PASSWORD' };
      case 'kubernetesSecret':
        return { secretName: 'db', secretKey: 'password' };
      case 'gcpSecretManager':
        return { secretName: 'projects/p/secrets/db/versions/latest' };
      case 'azureKeyVault':
        return { secretUrl: 'https://kv.vault.azure.net/secrets/db' };
    }
  }

  accessRules(r: number, a: number): Record<string, unknown> {
    return {
      accessRules: Array.from({ length: this.size.rulesPerAccount }, (_, k) => ({
        identity: { type: k % 2 === 0 ? 'group' : 'user', name: `analysts-${k}` },
        validFrom: '2025-01-01T00:00:00Z',
        validUntil: k % 2 === 0 ? '2026-12-31T00:00:00Z' : null,
        config: { authorizationPolicyInstanceIDs: [this.id('instance', r, a, k)] },
      })),
    };
  }

  /** The index of an id of `kind` (a map built on first use, one entry per object). */
  indexOf(kind: string, count: number, id: string): number | undefined {
    let indexes = this.#indexes.get(kind);
    if (indexes === undefined) {
      indexes = new Map(Array.from({ length: count }, (_, i) => [this.id(kind, i), i]));
      this.#indexes.set(kind, indexes);
    }
    return indexes.get(id);
  }
}

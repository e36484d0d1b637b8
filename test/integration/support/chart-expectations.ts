import { expect } from 'vitest';
import { parse } from 'yaml';
import type { Manifest } from '../../helpers/chart.ts';
import { configOf, ofKind } from '../../helpers/chart.ts';

/** What one example values file shows, asserted on its rendered manifests. */
type Expectation = (manifests: readonly Manifest[]) => void;

interface Container {
  name: string;
  args?: string[];
  env?: { name: string; value?: string; valueFrom?: unknown }[];
  securityContext?: Record<string, unknown>;
  volumeMounts?: { name: string; mountPath: string }[];
}
interface PodSpec {
  containers: Container[];
  securityContext: Record<string, unknown>;
  automountServiceAccountToken?: boolean;
}
interface Trigger {
  type: string;
  name?: string;
  metadata: Record<string, string>;
  authenticationRef?: { name: string };
}

const named = (manifests: readonly Manifest[], kind: string, name: string): Manifest => {
  const found = manifests.find((m) => m.kind === kind && m.metadata.name === name);
  if (found === undefined) {
    throw new Error(`no ${kind} ${name}`);
  }
  return found;
};
const spec = (manifest: Manifest): Record<string, unknown> => manifest.spec ?? {};
const podOf = (workload: Manifest): PodSpec =>
  (spec(workload) as { template: { spec: PodSpec } }).template.spec;
const config = (manifests: readonly Manifest[]): Record<string, Record<string, unknown>> =>
  parse(configOf(manifests)) as Record<string, Record<string, unknown>>;
const kinds = (manifests: readonly Manifest[]): string[] => manifests.map((m) => m.kind);
const maxUnavailable = (manifests: readonly Manifest[], role: string): unknown =>
  (
    spec(named(manifests, 'PodDisruptionBudget', `acme-perimeter-${role}`)) as {
      maxUnavailable: unknown;
    }
  ).maxUnavailable;
const triggers = (manifests: readonly Manifest[]): Trigger[] =>
  (spec(named(manifests, 'ScaledObject', 'acme-perimeter-worker')) as { triggers: Trigger[] })
    .triggers;

function expectCombinedOnly(manifests: readonly Manifest[]): void {
  expect(ofKind(manifests, 'Deployment').map((d) => d.metadata.name)).toEqual([
    'acme-perimeter-combined',
  ]);
  expect(maxUnavailable(manifests, 'combined')).toBe(1);
}

function expectStoreProfile(manifests: readonly Manifest[], type: string): void {
  const stores = config(manifests)['secretStores'] as Record<string, { type: string }>;
  expect(Object.values(stores).map((store) => store.type)).toEqual([type]);
}

const serviceAccount = (
  manifests: readonly Manifest[],
): Manifest & {
  automountServiceAccountToken?: boolean;
  metadata: { annotations?: Record<string, string> };
} => named(manifests, 'ServiceAccount', 'acme-perimeter');

/** ci/<file> → what it shows. A new values file needs an entry here (the test says so). */
export const CHART_EXPECTATIONS: Readonly<Record<string, Expectation>> = {
  'minimal-values.yaml': (manifests) => {
    expectCombinedOnly(manifests);
    expect(kinds(manifests)).not.toContain('StatefulSet');
    expect(kinds(manifests)).not.toContain('HorizontalPodAutoscaler');
    expect(config(manifests)['redis']).toMatchObject({ url: 'redis://redis.perimeter.svc:6379' });
    expect(config(manifests)['catalog']).toEqual({ url: 'https://catalog.example.com' });
  },

  'split-values.yaml': (manifests) => {
    const worker = named(manifests, 'Deployment', 'acme-perimeter-worker');
    expect((spec(worker) as { replicas: number }).replicas).toBe(3);
    expect(podOf(worker).containers[0]!.env).toContainEqual({
      name: 'PERIMETER_QUEUE_CONCURRENCY',
      value: '8',
    });
    expect(
      podOf(named(manifests, 'Deployment', 'acme-perimeter-link')).containers[0]!.args,
    ).toEqual(['start', '--role', 'link']);
    expect(maxUnavailable(manifests, 'worker')).toBe('25%');
    expect(maxUnavailable(manifests, 'link')).toBe(1);
    expect(config(manifests)['redis']).toMatchObject({
      url: 'redis-sentinel://sentinel-0.redis.svc:26379,sentinel-1.redis.svc:26379/perimeter',
      password: 'file:///var/run/secrets/perimeter/redis-password/password',
    });
  },

  'redis-in-chart-values.yaml': (manifests) => {
    expectCombinedOnly(manifests);
    const redis = named(manifests, 'StatefulSet', 'acme-perimeter-redis');
    const conf = named(manifests, 'ConfigMap', 'acme-perimeter-redis').data?.['redis.conf'] ?? '';
    expect(conf).toMatch(/^appendonly yes$/m);
    expect(conf).toMatch(/^appendfsync always$/m);
    expect(conf).toMatch(/^maxmemory-policy noeviction$/m);
    expect(conf).toMatch(/^maxmemory 768mb$/m);
    expect((spec(redis) as { volumeClaimTemplates: unknown[] }).volumeClaimTemplates).toEqual([
      expect.objectContaining({
        spec: expect.objectContaining({
          storageClassName: 'standard-rwo',
          resources: { requests: { storage: '5Gi' } },
        }) as unknown,
      }),
    ]);
    const pod = podOf(redis);
    expect(pod.automountServiceAccountToken).toBe(false);
    expect(pod.securityContext).toMatchObject({
      runAsNonRoot: true,
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(pod.containers[0]!.securityContext).toMatchObject({
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'] },
    });
    expect(pod.containers[0]!.args).toEqual([
      '/etc/redis/redis.conf',
      '--requirepass',
      '$(REDIS_PASSWORD)',
    ]);
    expect(config(manifests)['redis']).toMatchObject({ url: 'redis://acme-perimeter-redis:6379' });
    const policy = spec(named(manifests, 'NetworkPolicy', 'acme-perimeter-redis')) as {
      ingress: { from: { podSelector: { matchLabels: Record<string, string> } }[] }[];
      egress: unknown[];
    };
    expect(policy.egress).toEqual([]);
    expect(policy.ingress).toHaveLength(1);
    expect(policy.ingress[0]!.from).toHaveLength(1);
    expect(policy.ingress[0]!.from[0]!.podSelector.matchLabels).toEqual({
      'app.kubernetes.io/name': 'perimeter',
      'app.kubernetes.io/instance': 'acme',
    });
    named(manifests, 'Service', 'acme-perimeter-redis');
  },

  'hpa-values.yaml': (manifests) => {
    const hpa = named(manifests, 'HorizontalPodAutoscaler', 'acme-perimeter-worker');
    expect(hpa.apiVersion).toBe('autoscaling/v2');
    expect(spec(hpa)).toMatchObject({
      minReplicas: 2,
      maxReplicas: 6,
      metrics: [
        { type: 'Resource', resource: { name: 'cpu', target: { averageUtilization: 60 } } },
      ],
    });
    expect(spec(named(manifests, 'Deployment', 'acme-perimeter-worker'))).not.toHaveProperty(
      'replicas',
    );
    expect(kinds(manifests)).not.toContain('ScaledObject');
    expect(config(manifests)['redis']).toMatchObject({
      url: 'rediss://redis.perimeter.svc:6380/2',
      username: 'perimeter',
    });
  },

  'keda-values.yaml': (manifests) => {
    const scaled = spec(named(manifests, 'ScaledObject', 'acme-perimeter-worker')) as {
      minReplicaCount: number;
      advanced: { scalingModifiers: unknown };
    };
    expect(scaled.minReplicaCount).toBe(0);
    expect(scaled.advanced.scalingModifiers).toMatchObject({
      formula: 'waiting + active',
      target: '2',
    });
    expect(
      triggers(manifests).map((t) => [
        t.name,
        t.type,
        t.metadata['listName'],
        t.metadata['address'],
      ]),
    ).toEqual([
      ['waiting', 'redis', 'acme:runs:wait', 'acme-perimeter-redis.perimeter.svc:6379'],
      ['active', 'redis', 'acme:runs:active', 'acme-perimeter-redis.perimeter.svc:6379'],
    ]);
    expect(spec(named(manifests, 'TriggerAuthentication', 'acme-perimeter-worker-redis'))).toEqual({
      secretTargetRef: [{ parameter: 'password', name: 'perimeter-redis', key: 'password' }],
    });
    expect(kinds(manifests)).not.toContain('HorizontalPodAutoscaler');
    const policy = JSON.stringify(named(manifests, 'NetworkPolicy', 'acme-perimeter-redis').spec);
    expect(policy).toContain('"kubernetes.io/metadata.name":"keda"');
    expect(policy).toContain('"app.kubernetes.io/name":"keda-operator"');
  },

  'keda-prometheus-values.yaml': (manifests) => {
    const [trigger] = triggers(manifests);
    expect(trigger?.type).toBe('prometheus');
    expect(trigger?.metadata).toMatchObject({
      serverAddress: 'http://prometheus-operated.monitoring.svc:9090',
      threshold: '3',
    });
    expect(trigger?.metadata['query']).toContain(
      'perimeter_queue_jobs{namespace="perimeter",service="acme-perimeter",state="waiting"}',
    );
    expect(kinds(manifests)).toContain('ServiceMonitor');
    expect(kinds(manifests)).not.toContain('TriggerAuthentication');
    expect(config(manifests)['redis']).toMatchObject({
      url: expect.stringMatching(/^redis-cluster:\/\//) as unknown,
    });
  },

  'production-values.yaml': (manifests) => {
    const worker = podOf(named(manifests, 'Deployment', 'acme-perimeter-worker'));
    expect((worker as unknown as { containers: { image: string }[] }).containers[0]!.image).toMatch(
      /@sha256:[a-f0-9]{64}$/,
    );
    expect(triggers(manifests)[0]?.metadata).toMatchObject({
      address: 'redis.data.svc.cluster.local:6380',
      databaseIndex: '0',
      enableTLS: 'true',
      username: 'perimeter',
      listName: 'acme-prod:runs:wait',
      listLength: '4',
    });
    expect(
      spec(named(manifests, 'TriggerAuthentication', 'acme-perimeter-worker-redis')),
    ).toMatchObject({
      configMapTargetRef: [{ parameter: 'ca', name: 'redis-ca', key: 'ca.crt' }],
    });
    expect(config(manifests)['redis']).toMatchObject({ caFile: '/etc/perimeter/redis-ca/ca.crt' });
    expect(config(manifests)['controlPlane']).toMatchObject({
      clientCertFile: expect.any(String) as unknown,
    });
    expect(kinds(manifests)).toContain('ServiceMonitor');
    expect(worker.containers[0]!.volumeMounts?.map((m) => m.mountPath)).toEqual(
      expect.arrayContaining([
        '/etc/perimeter/redis-ca',
        '/etc/perimeter/ca',
        '/var/run/secrets/perimeter/catalog-token',
      ]),
    );
  },

  'aws-irsa-values.yaml': (manifests) => {
    expect(
      serviceAccount(manifests).metadata.annotations?.['eks.amazonaws.com/role-arn'],
    ).toContain(':role/');
    expectStoreProfile(manifests, 'aws-sm');
  },

  'gcp-workload-identity-values.yaml': (manifests) => {
    expect(
      serviceAccount(manifests).metadata.annotations?.['iam.gke.io/gcp-service-account'],
    ).toBeDefined();
    expect(JSON.stringify(named(manifests, 'NetworkPolicy', 'acme-perimeter').spec)).toContain(
      '"port":988',
    );
    expectStoreProfile(manifests, 'gcp-sm');
  },

  'azure-workload-identity-values.yaml': (manifests) => {
    const pod = (
      spec(named(manifests, 'Deployment', 'acme-perimeter-combined')) as {
        template: { metadata: { labels: Record<string, string> } };
      }
    ).template;
    expect(pod.metadata.labels['azure.workload.identity/use']).toBe('true');
    expectStoreProfile(manifests, 'azure-kv');
  },

  'vault-kubernetes-values.yaml': (manifests) => {
    expect(serviceAccount(manifests).automountServiceAccountToken).toBe(true);
    expect(
      podOf(named(manifests, 'Deployment', 'acme-perimeter-combined')).automountServiceAccountToken,
    ).toBe(true);
    expectStoreProfile(manifests, 'vault');
  },
};

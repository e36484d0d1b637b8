import { describe, expect, it } from 'vitest';
import {
  CHART,
  MINIMAL_VALUES,
  assertAgentAccepts,
  chartRefusal,
  configOf,
  renderChart,
} from '../helpers/chart.ts';
import type { Manifest } from '../helpers/chart.ts';
import { envName } from '../../agent/config/env.ts';
import { helm } from '../helpers/helm.ts';

/** The chart with the least an install needs, and `values` on top. */
const render = (values: Record<string, unknown> = {}): Manifest[] =>
  renderChart([MINIMAL_VALUES], values);
const refuses = (values: Record<string, unknown>): string => chartRefusal([MINIMAL_VALUES], values);

interface Pod {
  spec: {
    containers: {
      args: string[];
      securityContext: Record<string, unknown>;
      readinessProbe: { httpGet: { path: string } };
      livenessProbe: { httpGet: { path: string } };
      volumeMounts: { name: string; mountPath: string }[];
    }[];
    terminationGracePeriodSeconds: number;
    securityContext: Record<string, unknown>;
    automountServiceAccountToken: boolean;
  };
  metadata: { labels: Record<string, string> };
}

const deployments = (manifests: Manifest[]): Manifest[] =>
  manifests.filter((m) => m.kind === 'Deployment');
const podOf = (deployment: Manifest): Pod => (deployment.spec as { template: Pod }).template;
describe('the Helm chart', () => {
  it('passes helm lint with the least an install needs', () => {
    expect(helm(['lint', CHART, '-f', MINIMAL_VALUES])).toContain('0 chart(s) failed');
  });

  it('renders a hardened combined deployment whose config the agent accepts', () => {
    const manifests = render();
    const [deployment] = deployments(manifests);
    expect(deployments(manifests)).toHaveLength(1);
    const pod = podOf(deployment!);
    const container = pod.spec.containers[0]!;
    expect(container.args).toEqual(['start', '--role', 'all']);
    expect(container.securityContext).toMatchObject({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ['ALL'] },
    });
    expect(pod.spec.securityContext).toMatchObject({
      runAsNonRoot: true,
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(container.livenessProbe.httpGet.path).toBe('/livez');
    expect(container.readinessProbe.httpGet.path).toBe('/readyz');
    expect(pod.spec.terminationGracePeriodSeconds).toBe(35);
    expect(pod.spec.automountServiceAccountToken).toBe(false);
    expect(manifests.some((m) => m.kind === 'Secret')).toBe(false);
    expect(manifests.some((m) => m.kind === 'NetworkPolicy')).toBe(true);
    assertAgentAccepts(configOf(manifests));
  });

  it('renders the split topology: one link and scalable workers with a disruption budget', () => {
    const manifests = render({
      topology: 'split',
      worker: { replicas: 3, concurrency: 8, resources: { limits: { memory: '1536Mi' } } },
    });
    const byName = new Map(deployments(manifests).map((d) => [d.metadata.name, d]));
    expect([...byName.keys()].sort()).toEqual(['acme-perimeter-link', 'acme-perimeter-worker']);
    expect(podOf(byName.get('acme-perimeter-link')!).spec.containers[0]!.args).toEqual([
      'start',
      '--role',
      'link',
    ]);
    expect(byName.get('acme-perimeter-link')!.spec).toMatchObject({
      replicas: 1,
      strategy: { type: 'Recreate' },
    });
    expect(byName.get('acme-perimeter-worker')!.spec).toMatchObject({ replicas: 3 });
    expect(manifests.some((m) => m.kind === 'PodDisruptionBudget')).toBe(true);
  });

  it('caps each run of the pods that run jobs at worker.runMemoryMb, as the agent reads it', () => {
    const env = (deployment: Manifest): Record<string, string> =>
      Object.fromEntries(
        (
          podOf(deployment).spec.containers[0] as unknown as {
            env: { name: string; value?: string }[];
          }
        ).env.map((variable) => [variable.name, variable.value ?? '']),
      );
    const name = envName(['queue', 'runMemoryMb']);
    const split = new Map(
      deployments(
        render({
          topology: 'split',
          worker: { runMemoryMb: 300, resources: { limits: { memory: '1536Mi' } } },
        }),
      ).map((d) => [d.metadata.name, env(d)]),
    );
    expect(split.get('acme-perimeter-worker')?.[name]).toBe('300');
    expect(split.get('acme-perimeter-link')?.[name]).toBeUndefined();
    expect(env(deployments(render())[0]!)[name]).toBe('128');
    expect(refuses({ worker: { runMemoryMb: 8 } })).toMatch(/runMemoryMb/);
  });

  it("counts a connector whose policy raises its runs' cap in the pod memory check", () => {
    const worker = { concurrency: 4, runMemoryMb: 128, resources: { limits: { memory: '1Gi' } } };
    const config = (runMemoryMb: number): Record<string, unknown> => ({
      policy: { connectors: { cyera: { runMemoryMb } } },
    });
    const split = { topology: 'split', worker };
    expect(deployments(render({ ...split, config: config(200) })).length).toBe(2);
    expect(refuses({ ...split, config: config(512) })).toContain(
      'worker.concurrency × config.policy.connectors.cyera.runMemoryMb + 200 MiB for the agent (4 × 512 + 200 = 2248 MiB) exceeds',
    );
  });

  it('mounts the agent token and workload identity for a control-plane deployment the agent accepts', () => {
    const manifests = render({
      controlPlane: {
        enabled: true,
        url: 'https://cp.example.com',
        agentTokenSecret: { name: 'perimeter-agent', key: 'token' },
      },
      catalog: {
        url: 'https://catalog.example.com',
        tokenSecret: { name: 'perimeter-catalog', key: 'token' },
      },
      serviceAccount: {
        annotations: { 'eks.amazonaws.com/role-arn': 'arn:aws:iam::123456789012:role/perimeter' },
      },
      podLabels: { 'azure.workload.identity/use': 'true' },
      extraEnv: [{ name: 'AWS_WEB_IDENTITY_TOKEN_FILE', value: '/var/run/secrets/aws/token' }],
      extraVolumes: [
        {
          name: 'aws-token',
          projected: {
            sources: [{ serviceAccountToken: { audience: 'sts.amazonaws.com', path: 'token' } }],
          },
        },
      ],
      extraVolumeMounts: [{ name: 'aws-token', mountPath: '/var/run/secrets/aws', readOnly: true }],
      config: {
        secretStores: {
          'aws-prod': { type: 'aws-sm', allow: ['prod/perimeter/*'], region: 'eu-west-1' },
        },
        connections: {
          'cyera-prod': {
            connector: 'cyera',
            baseUrl: 'https://api.cyera.io',
            credentials: {
              clientId: 'aws-sm://prod/perimeter/cyera?store=aws-prod#clientId',
              secret: 'aws-sm://prod/perimeter/cyera?store=aws-prod#secret',
            },
          },
        },
      },
    });
    const config = configOf(manifests);
    expect(config).toContain('agentToken: file:///var/run/secrets/perimeter/agent-token/token');
    const pod = podOf(deployments(manifests)[0]!);
    expect(pod.spec.containers[0]!.volumeMounts.map((v) => v.mountPath)).toContain(
      '/var/run/secrets/perimeter/agent-token',
    );
    expect(pod.metadata.labels['azure.workload.identity/use']).toBe('true');
    expect(pod.spec.containers[0]!.volumeMounts.map((v) => v.mountPath)).toContain(
      '/var/run/secrets/aws',
    );
    const account = manifests.find((m) => m.kind === 'ServiceAccount') as unknown as {
      metadata: { annotations: Record<string, string> };
    };
    expect(account.metadata.annotations['eks.amazonaws.com/role-arn']).toContain('role/perimeter');
    assertAgentAccepts(config);
  });

  it('mounts a shared review area from an existing claim and points review.dir at it', () => {
    const manifests = render({
      topology: 'split',
      review: { mode: 'first', connections: { inventory: 'every' }, existingClaim: 'held-runs' },
    });
    for (const deployment of deployments(manifests)) {
      const pod = podOf(deployment) as Pod & {
        spec: { volumes: { name: string; persistentVolumeClaim?: { claimName: string } }[] };
      };
      expect(pod.spec.containers[0]!.volumeMounts).toContainEqual({
        name: 'review',
        mountPath: '/var/lib/perimeter/review',
      });
      expect(pod.spec.volumes).toContainEqual({
        name: 'review',
        persistentVolumeClaim: { claimName: 'held-runs' },
      });
    }
    const config = configOf(manifests);
    expect(config).toMatch(
      /review:\n\s+connections:\n\s+inventory: every\n\s+dir: \/var\/lib\/perimeter\/review\n\s+mode: first/,
    );
    assertAgentAccepts(config);
    const off = render();
    expect(configOf(off)).not.toContain('review');
    expect(JSON.stringify(off)).not.toContain('/var/lib/perimeter/review');
  });

  it('refuses review without a claim, and a review section in the config', () => {
    expect(refuses({ review: { mode: 'every' } })).toMatch(/review\.existingClaim is required/);
    expect(refuses({ review: { connections: { inventory: 'first' } } })).toMatch(
      /review\.existingClaim is required/,
    );
    expect(refuses({ review: { mode: 'sometimes', existingClaim: 'c' } })).toMatch(/review/);
    expect(refuses({ config: { review: { mode: 'every', dir: '/tmp/review' } } })).toMatch(
      /review/,
    );
  });

  it('refuses literal credentials, plain-http endpoints, unknown keys and a second combined replica', () => {
    expect(
      refuses({
        config: {
          connections: { c: { connector: 'cyera', credentials: { secret: 'hunter2-in-values' } } },
        },
      }),
    ).toMatch(/credentials/);
    expect(refuses({ catalog: { url: 'http://catalog.example.com' } })).toMatch(/catalog/);
    expect(refuses({ replicaCount: 3 })).toMatch(/replicaCount/);
    expect(refuses({ combined: { replicas: 2 } })).toMatch(/replicas/);
  });
});

// What an operator meets at `helm install`: a refusal that names every missing or conflicting
// value (before anything reaches the cluster), and NOTES whose commands name the resources the
// chart really creates, the health routes the agent really serves and the CLI command it has.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../agent/cli/cli.ts';
import { loadConfig } from '../../agent/config/load.ts';
import { buildHealthApp } from '../../agent/health/app.ts';
import { connectors } from '../../connectors/index.ts';
import { secretStores } from '../../secrets/index.ts';
import {
  CI_VALUES,
  MINIMAL_VALUES,
  chartNotes,
  chartRefusal,
  ciValuesFiles,
  configOf,
  ofKind,
  renderChart,
} from '../helpers/chart.ts';
import type { Manifest } from '../helpers/chart.ts';
import { captureIo } from '../helpers/cli-io.ts';
import { freePort } from '../helpers/ports.ts';

const CATALOG = { url: 'https://catalog.example.com' };
const REDIS = { url: 'redis://redis.perimeter.svc:6379' };

describe('an install the chart refuses', () => {
  it.each([
    ['768Mi', { concurrency: 4 }],
    ['1G', { concurrency: 5 }],
    ['1073741824', { concurrency: 6 }],
  ])('accepts runs that fit a %s limit', (memory, worker) => {
    expect(() =>
      renderChart([], {
        catalog: CATALOG,
        redis: REDIS,
        worker,
        combined: { resources: { limits: { memory } } },
      }),
    ).not.toThrow();
  });

  it('names every missing must-have at once: the catalog and a Redis', () => {
    const refusal = chartRefusal([]);
    expect(refusal).toContain('Perimeter cannot be installed with these values:');
    expect(refusal).toContain(
      '- catalog.url is required: the https:// URL of the catalog Perimeter pushes metadata to',
    );
    expect(refusal).toContain(
      '- Redis is required: set redis.url to your Redis (redis://, rediss://, redis-sentinel://, redis-cluster://) or redis.inChart.enabled=true',
    );
  });

  it('refuses values without catalog.url, naming the key, even when all else is set', () => {
    const refusal = chartRefusal([], { redis: REDIS });
    expect(refusal).toContain('catalog.url is required');
    expect(refusal).not.toContain('Redis is required');
  });

  it.each([
    [
      'two Redis',
      { redis: { ...REDIS, inChart: { enabled: true } } },
      'redis.url and redis.inChart.enabled are both set',
    ],
    [
      'an ACL user for the in-chart Redis',
      { redis: { username: 'perimeter', inChart: { enabled: true } } },
      'the in-chart Redis has only a password',
    ],
    [
      'a password in the Redis URL',
      { redis: { url: 'redis://:hunter2-in-url@redis:6379' } },
      'redis.url must not carry a user or password',
    ],
    [
      'two autoscalers',
      { topology: 'split', autoscaling: { hpa: { enabled: true }, keda: { enabled: true } } },
      'autoscaling.hpa.enabled and autoscaling.keda.enabled are both on',
    ],
    [
      'an autoscaled combined pod',
      { autoscaling: { keda: { enabled: true } } },
      'autoscaling needs topology: split',
    ],
    [
      'KEDA on Prometheus without its address',
      { topology: 'split', autoscaling: { keda: { enabled: true, trigger: 'prometheus' } } },
      'autoscaling.keda.prometheus.serverAddress is required',
    ],
    [
      'more run memory than the combined pod may hold',
      { redis: REDIS, worker: { concurrency: 6 } },
      "(6 × 128 + 200 = 968 MiB) exceeds the combined pod's memory limit (768 MiB)",
    ],
    [
      'more run memory than a worker pod may hold (limit in Gi)',
      {
        redis: REDIS,
        topology: 'split',
        worker: { runMemoryMb: 512, resources: { limits: { memory: '2Gi' } } },
      },
      "(4 × 512 + 200 = 2248 MiB) exceeds the worker pod's memory limit (2048 MiB)",
    ],
  ])('refuses %s with a sentence saying what to do', (_name, values, message) => {
    const refusal = chartRefusal([], { catalog: CATALOG, ...values });
    expect(refusal).toContain(message);
    expect(refusal).not.toContain('hunter2');
  });
});

/** `kind/name` references of the NOTES: deployment/x, statefulset/x, scaledobject/x, hpa/x. */
function referencedResources(notes: string): [string, string][] {
  return [...notes.matchAll(/\b(deployment|statefulset|scaledobject|hpa)\/([a-z0-9-]+)/g)].map(
    (match) => [match[1] ?? '', match[2] ?? ''],
  );
}

const KINDS: Readonly<Record<string, string>> = {
  deployment: 'Deployment',
  statefulset: 'StatefulSet',
  scaledobject: 'ScaledObject',
  hpa: 'HorizontalPodAutoscaler',
};

function assertRendered(manifests: readonly Manifest[], kind: string, name: string): void {
  // KEDA names the HPA it makes after the ScaledObject: keda-hpa-<name>.
  const [expectedKind, expectedName] =
    kind === 'hpa' && name.startsWith('keda-hpa-')
      ? ['ScaledObject', name.slice('keda-hpa-'.length)]
      : [KINDS[kind], name];
  expect(
    manifests.some((m) => m.kind === expectedKind && m.metadata.name === expectedName),
    `${kind}/${name} in NOTES is rendered`,
  ).toBe(true);
}

describe.each(ciValuesFiles())('the NOTES of an install with ci/%s', (file) => {
  const values = [join(CI_VALUES, file)];

  it('name only resources the chart renders, and the health port the pods expose', () => {
    const notes = chartNotes(values);
    const manifests = renderChart(values);
    const references = referencedResources(notes);
    expect(references.length).toBeGreaterThan(2);
    for (const [kind, name] of references) {
      assertRendered(manifests, kind, name);
    }
    const [, execTarget] = /exec deployment\/(\S+) -- perimeter check/.exec(notes) ?? [];
    expect(execTarget).toMatch(/-(combined|worker|link)$/);
    const ports = ofKind(manifests, 'Deployment').flatMap(
      (d) =>
        (d.spec as { template: { spec: { containers: { ports: { containerPort: number }[] }[] } } })
          .template.spec.containers[0]?.ports ?? [],
    );
    const [, forwarded] = /port-forward deployment\/\S+ (\d+):\d+/.exec(notes) ?? [];
    expect(ports.map((p) => String(p.containerPort))).toContain(forwarded);
  });
});

describe('the NOTES commands', () => {
  it('curl routes the health server serves', async () => {
    const notes = chartNotes([MINIMAL_VALUES]);
    const paths = [...notes.matchAll(/curl -s localhost:\d+(\/[a-z]+)/g)].map((m) => m[1] ?? '');
    expect(paths).toEqual(['/readyz', '/status']);
    const app = buildHealthApp({
      state: () => 'running',
      dependencies: () => ({ redis: { ok: true, detail: 'ready', required: true } }),
      metrics: () => Promise.resolve({ contentType: 'text/plain', text: '' }),
      status: () => Promise.resolve({ state: 'running' }),
    });
    try {
      for (const path of paths) {
        const response = await app.inject({ method: 'GET', url: path });
        expect(response.statusCode, path).toBe(200);
      }
    } finally {
      await app.close();
    }
  });

  it('run perimeter check on the config file the chart mounts, reporting each check', async () => {
    const closedPort = await freePort(); // nothing listens there: the reach check fails
    const manifests = renderChart([MINIMAL_VALUES], {
      catalog: { url: `https://127.0.0.1:${closedPort}` },
    });
    const notes = chartNotes([MINIMAL_VALUES]);
    const [, command] = /exec deployment\/\S+ -- (perimeter check)\n/.exec(notes) ?? [];
    expect(command).toBe('perimeter check');
    const container = (
      ofKind(manifests, 'Deployment')[0]?.spec as {
        template: { spec: { containers: { env: { name: string; value?: string }[] }[] } };
      }
    ).template.spec.containers[0];
    const configPath = container?.env.find((e) => e.name === 'PERIMETER_CONFIG')?.value;
    expect(configPath).toBe('/etc/perimeter/perimeter.yaml');
    const dir = mkdtempSync(join(tmpdir(), 'perimeter-notes-'));
    try {
      writeFileSync(join(dir, 'perimeter.yaml'), configOf(manifests));
      const io = captureIo({ PERIMETER_CONFIG: join(dir, 'perimeter.yaml') }, dir);
      const argv = (command ?? '').split(' ').slice(1);
      const code = await runCli(argv, io, { connectors, stores: secretStores });
      const out = io.out.join('');
      expect(out).toMatch(/^ok {4}config {2}\S+perimeter\.yaml {2}0 connections/m);
      expect(out).toMatch(
        new RegExp(`^FAIL {2}reach {3}https://127\\.0\\.0\\.1:${closedPort}`, 'm'),
      );
      expect(code).toBe(1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/**
 * The variables Kubernetes injects into a pod for each Service of its namespace ("service
 * links"): <NAME>_SERVICE_HOST, <NAME>_PORT_<port>_TCP, ….
 */
function serviceLinkEnv(service: Manifest): Record<string, string> {
  const name = service.metadata.name.toUpperCase().replaceAll('-', '_');
  const env: Record<string, string> = {
    [`${name}_SERVICE_HOST`]: '10.96.0.10',
    [`${name}_PORT`]: 'tcp://10.96.0.10:8080',
  };
  for (const port of (service.spec as { ports: { name: string; port: number }[] }).ports) {
    const tcp = `${name}_PORT_${port.port}_TCP`;
    Object.assign(env, {
      [`${name}_SERVICE_PORT`]: String(port.port),
      [`${name}_SERVICE_PORT_${port.name.toUpperCase()}`]: String(port.port),
      [tcp]: `tcp://10.96.0.10:${port.port}`,
      [`${tcp}_PROTO`]: 'tcp',
      [`${tcp}_PORT`]: String(port.port),
      [`${tcp}_ADDR`]: '10.96.0.10',
    });
  }
  return env;
}

describe('a release named perimeter', () => {
  it('turns off service links, whose PERIMETER_* variables the agent would refuse', () => {
    const manifests = renderChart([join(CI_VALUES, 'redis-in-chart-values.yaml')], {}, 'perimeter');
    const env = Object.assign({}, ...ofKind(manifests, 'Service').map(serviceLinkEnv)) as Record<
      string,
      string
    >;
    expect(Object.keys(env)).toContain('PERIMETER_SERVICE_HOST');
    expect(() =>
      loadConfig(
        { env, file: { path: 'perimeter.yaml', text: configOf(manifests) } },
        { connectors, stores: secretStores },
      ),
    ).toThrow(/PERIMETER_SERVICE_HOST/);
    for (const workload of [
      ...ofKind(manifests, 'Deployment'),
      ...ofKind(manifests, 'StatefulSet'),
    ]) {
      const pod = (workload.spec as { template: { spec: { enableServiceLinks?: boolean } } })
        .template;
      expect(pod.spec.enableServiceLinks, workload.metadata.name).toBe(false);
    }
  });
});

// Every example values file of the chart (helm/perimeter/ci/*-values.yaml) lints clean under
// --strict, renders manifests that pass the Kubernetes, KEDA and Prometheus Operator schemas,
// renders a config the agent accepts, and shows what its comment says it shows.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  CI_VALUES,
  assertAgentAccepts,
  ciValuesFiles,
  configOf,
  lintChart,
  ofKind,
  renderChart,
} from '../helpers/chart.ts';
import type { Manifest } from '../helpers/chart.ts';
import { validateManifest } from '../helpers/kube-schemas.ts';
import { CHART_EXPECTATIONS } from './support/chart-expectations.ts';

interface Selector {
  matchLabels?: Record<string, string>;
}

const labelsOfPods = (workload: Manifest): Record<string, string> =>
  (workload.spec as { template: { metadata: { labels: Record<string, string> } } }).template
    .metadata.labels;
const matches = (selector: Record<string, string>, labels: Record<string, string>): boolean =>
  Object.entries(selector).every(([key, value]) => labels[key] === value);

describe.each(ciValuesFiles())('the chart with ci/%s', (file) => {
  const path = join(CI_VALUES, file);

  it('lints clean under --strict', () => {
    expect(lintChart([path])).toContain('1 chart(s) linted, 0 chart(s) failed');
  });

  it('renders manifests that pass their schemas and a config the agent accepts', () => {
    const manifests = renderChart([path]);
    expect(manifests.length).toBeGreaterThan(4);
    for (const manifest of manifests) {
      validateManifest(manifest);
    }
    assertAgentAccepts(configOf(manifests));
  });

  it('gives every Deployment a disruption budget and points every selector at real pods', () => {
    const manifests = renderChart([path]);
    const workloads = [...ofKind(manifests, 'Deployment'), ...ofKind(manifests, 'StatefulSet')];
    const budgets = ofKind(manifests, 'PodDisruptionBudget');
    for (const deployment of ofKind(manifests, 'Deployment')) {
      const selector = (deployment.spec as { selector: Selector }).selector.matchLabels ?? {};
      const covering = budgets.filter((budget) =>
        matches((budget.spec as { selector: Selector }).selector.matchLabels ?? {}, selector),
      );
      expect(covering, deployment.metadata.name).toHaveLength(1);
    }
    for (const service of ofKind(manifests, 'Service')) {
      const selector = (service.spec as { selector: Record<string, string> }).selector;
      expect(
        workloads.some((w) => matches(selector, labelsOfPods(w))),
        service.metadata.name,
      ).toBe(true);
    }
    const deploymentNames = ofKind(manifests, 'Deployment').map((d) => d.metadata.name);
    for (const scaler of [
      ...ofKind(manifests, 'HorizontalPodAutoscaler'),
      ...ofKind(manifests, 'ScaledObject'),
    ]) {
      const target = (scaler.spec as { scaleTargetRef: { name: string } }).scaleTargetRef.name;
      expect(deploymentNames).toContain(target);
    }
  });

  it('shows what its comment says', () => {
    const expectation = CHART_EXPECTATIONS[file];
    expect(expectation, `ci/${file} has no expectation in chart-expectations.ts`).toBeDefined();
    expectation?.(renderChart([path]));
  });
});

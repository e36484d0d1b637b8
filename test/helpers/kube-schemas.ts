import { Deployment, StatefulSet } from 'kubernetes-models/apps/v1';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { ConfigMap, Service, ServiceAccount } from 'kubernetes-models/v1';
import { ScaledObject, TriggerAuthentication } from '@kubernetes-models/keda/keda.sh/v1alpha1';
import { ServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1';

/** A rendered manifest, as far as the lookup needs it. */
export interface KubeObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: { readonly name: string };
}

type Validator = (object: never) => { validate(): void };

/**
 * Every kind the chart renders, with its schema: the Kubernetes OpenAPI schemas and the KEDA and
 * Prometheus Operator CRD schemas, as the `kubernetes-models` packages compile them. A kind the
 * chart starts to render must be added here, so nothing reaches a cluster unchecked.
 */
const MODELS: Readonly<Record<string, Validator>> = {
  'v1/ConfigMap': (o) => new ConfigMap(o),
  'v1/Service': (o) => new Service(o),
  'v1/ServiceAccount': (o) => new ServiceAccount(o),
  'apps/v1/Deployment': (o) => new Deployment(o),
  'apps/v1/StatefulSet': (o) => new StatefulSet(o),
  'networking.k8s.io/v1/NetworkPolicy': (o) => new NetworkPolicy(o),
  'policy/v1/PodDisruptionBudget': (o) => new PodDisruptionBudget(o),
  'autoscaling/v2/HorizontalPodAutoscaler': (o) => new HorizontalPodAutoscaler(o),
  'keda.sh/v1alpha1/ScaledObject': (o) => new ScaledObject(o),
  'keda.sh/v1alpha1/TriggerAuthentication': (o) => new TriggerAuthentication(o),
  'monitoring.coreos.com/v1/ServiceMonitor': (o) => new ServiceMonitor(o),
};

/**
 * Validates one manifest against its kind's schema; throws naming the kind, the object and
 * every violation (types, required fields, enums, formats such as quantities).
 */
export function validateManifest(manifest: KubeObject): void {
  const key = `${manifest.apiVersion}/${manifest.kind}`;
  const model = MODELS[key];
  if (model === undefined) {
    throw new Error(`${key} ${manifest.metadata.name}: no schema known for this kind`);
  }
  try {
    model(manifest as never).validate();
  } catch (error) {
    throw new Error(`${key} ${manifest.metadata.name}: ${String(error)}`, { cause: error });
  }
}

{{/*
Every must-have of an install, checked at once so `helm install` and `helm template` name every
missing value together, before anything reaches the cluster (a pod would only crash-loop).
*/}}
{{- define "perimeter.validate" -}}
{{- $v := .Values -}}
{{- $problems := list -}}
{{- if not $v.catalog.url -}}
{{- $problems = append $problems "catalog.url is required: the https:// URL of the catalog Perimeter pushes metadata to (e.g. --set catalog.url=https://catalog.example.com)." -}}
{{- end -}}
{{- if and (not $v.redis.url) (not $v.redis.inChart.enabled) -}}
{{- $problems = append $problems "Redis is required: set redis.url to your Redis (redis://, rediss://, redis-sentinel://, redis-cluster://) or redis.inChart.enabled=true for a single-node Redis in this release." -}}
{{- end -}}
{{- if regexMatch "^[a-z-]+://[^/]*@" $v.redis.url -}}
{{- $problems = append $problems "redis.url must not carry a user or password: set redis.username and redis.passwordSecret (an existing Secret) instead." -}}
{{- end -}}
{{- if and $v.redis.url $v.redis.inChart.enabled -}}
{{- $problems = append $problems "redis.url and redis.inChart.enabled are both set: use your Redis (redis.url) or the in-chart one, not both." -}}
{{- end -}}
{{- if and $v.redis.inChart.enabled $v.redis.username -}}
{{- $problems = append $problems "redis.username is for a Redis of yours with ACL users; the in-chart Redis has only a password (redis.passwordSecret): unset redis.username." -}}
{{- end -}}
{{- if and $v.redis.inChart.enabled $v.redis.caBundle.configMap -}}
{{- $problems = append $problems "redis.caBundle is for a rediss:// Redis of yours; the in-chart Redis has no TLS: unset one of them." -}}
{{- end -}}
{{- $hpa := $v.autoscaling.hpa.enabled -}}
{{- $keda := $v.autoscaling.keda.enabled -}}
{{- if and $hpa $keda -}}
{{- $problems = append $problems "autoscaling.hpa.enabled and autoscaling.keda.enabled are both on: KEDA makes its own HorizontalPodAutoscaler, and two autoscalers fight over the worker Deployment; turn one off." -}}
{{- end -}}
{{- if and (or $hpa $keda) (eq $v.topology "combined") -}}
{{- $problems = append $problems "autoscaling needs topology: split: the combined pod also runs the link, which stays a single replica; split the roles and the workers scale." -}}
{{- end -}}
{{- if and $keda (eq $v.autoscaling.keda.trigger "prometheus") (not $v.autoscaling.keda.prometheus.serverAddress) -}}
{{- $problems = append $problems "autoscaling.keda.prometheus.serverAddress is required with autoscaling.keda.trigger: prometheus (e.g. http://prometheus-operated.monitoring:9090)." -}}
{{- end -}}
{{- if $problems -}}
{{- fail (printf "\n\nPerimeter cannot be installed with these values:\n  - %s\nSee the chart's values.yaml and docs/operations.md.\n" (join "\n  - " $problems)) -}}
{{- end -}}
{{- end -}}

{{/* The Redis URL the agent uses: the in-chart Redis's Service, or `redis.url`. */}}
{{- define "perimeter.redisUrl" -}}
{{- if .Values.redis.inChart.enabled -}}
{{- printf "redis://%s:6379" (include "perimeter.redisName" .) -}}
{{- else -}}
{{- .Values.redis.url -}}
{{- end -}}
{{- end -}}

{{- define "perimeter.redisName" -}}
{{- printf "%s-redis" (include "perimeter.fullname" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* The in-chart Redis's own name label keeps it out of the agent's Service and NetworkPolicy. */}}
{{- define "perimeter.redisSelectorLabels" -}}
app.kubernetes.io/name: {{ include "perimeter.name" . }}-redis
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: redis
{{- end -}}

{{/* The Deployments of the topology, one per role. */}}
{{- define "perimeter.roles" -}}
{{- ternary "combined" "link worker" (eq .Values.topology "combined") -}}
{{- end -}}

{{- define "perimeter.roleName" -}}
{{- printf "%s-%s" (include "perimeter.fullname" .root) .role | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* The worker Deployment's name (split topology). */}}
{{- define "perimeter.workerName" -}}
{{- include "perimeter.roleName" (dict "root" . "role" "worker") -}}
{{- end -}}

{{/* Whether an autoscaler owns the worker Deployment's replica count ("true" or ""). */}}
{{- define "perimeter.autoscaled" -}}
{{- if or .Values.autoscaling.hpa.enabled .Values.autoscaling.keda.enabled -}}true{{- end -}}
{{- end -}}

{{/* Runs per worker pod an autoscaler aims for: keda.targetRunsPerPod, else worker.concurrency. */}}
{{- define "perimeter.targetRunsPerPod" -}}
{{- $target := int .Values.autoscaling.keda.targetRunsPerPod -}}
{{- ternary $target (int .Values.worker.concurrency) (gt $target 0) -}}
{{- end -}}

{{/* Names and facts of the release's workloads, shared by the templates and NOTES. */}}

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

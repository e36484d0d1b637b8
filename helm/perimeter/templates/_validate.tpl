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
{{- if and (eq (include "perimeter.reviewOn" .) "true") (not $v.review.existingClaim) -}}
{{- $problems = append $problems "review.existingClaim is required when a review mode is first or every: held extracts must outlive the pod and be shared with the pod where an operator runs perimeter review (a ReadWriteMany claim when there are several pods)." -}}
{{- end -}}
{{- if hasKey $v.config "review" -}}
{{- $problems = append $problems "config.review is set by the chart: use the review values (mode, connections, existingClaim), which also mount the review area." -}}
{{- end -}}
{{- $workerPod := ternary $v.combined $v.worker (eq $v.topology "combined") -}}
{{- $limit := include "perimeter.mebibytes" (dig "resources" "limits" "memory" "" $workerPod) -}}
{{- /* The largest cap a run may get: a connector's policy.connectors.<name>.runMemoryMb overrides worker.runMemoryMb for its runs. */ -}}
{{- $runMb := int64 $v.worker.runMemoryMb -}}
{{- $runFrom := "worker.runMemoryMb" -}}
{{- range $name, $connector := (dig "policy" "connectors" (dict) $v.config) -}}
{{- $cap := dig "runMemoryMb" 0 (default (dict) $connector) -}}
{{- if gt (int64 $cap) $runMb -}}
{{- $runMb = int64 $cap -}}
{{- $runFrom = printf "config.policy.connectors.%s.runMemoryMb" $name -}}
{{- end -}}
{{- end -}}
{{- $needed := add (mul $v.worker.concurrency $runMb) 200 -}}
{{- if and $limit (gt (int64 $needed) (int64 $limit)) -}}
{{- $problems = append $problems (printf "worker.concurrency × %s + 200 MiB for the agent (%d × %d + 200 = %d MiB) exceeds the %s pod's memory limit (%s MiB): the kernel would kill the pod, every run in it with it, before a run reaches its own cap. Lower worker.concurrency or %s, or raise %s.resources.limits.memory." $runFrom (int64 $v.worker.concurrency) $runMb (int64 $needed) (ternary "combined" "worker" (eq $v.topology "combined")) $limit $runFrom (ternary "combined" "worker" (eq $v.topology "combined"))) -}}
{{- end -}}
{{- if $problems -}}
{{- fail (printf "\n\nPerimeter cannot be installed with these values:\n  - %s\nSee the chart's values.yaml and docs/operations.md.\n" (join "\n  - " $problems)) -}}
{{- end -}}
{{- end -}}

{{/*
A Kubernetes memory quantity in whole MiB ("768Mi", "1Gi", "800M", "1G", "536870912"); empty when
there is none or its suffix is one a memory limit does not use.
*/}}
{{- define "perimeter.mebibytes" -}}
{{- $q := toString . -}}
{{- $units := dict "Ki" 1024 "Mi" 1048576 "Gi" 1073741824 "Ti" 1099511627776 "k" 1000 "M" 1000000 "G" 1000000000 "T" 1000000000000 "" 1 -}}
{{- $match := regexFind "^[0-9]+" $q -}}
{{- $suffix := trimPrefix $match $q -}}
{{- if and $match (hasKey $units $suffix) -}}
{{- div (mul (int64 $match) (get $units $suffix)) 1048576 -}}
{{- end -}}
{{- end -}}

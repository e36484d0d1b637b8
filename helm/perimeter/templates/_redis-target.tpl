{{/*
The Redis the agent uses, taken apart for KEDA's scalers (JSON): `type` (redis, redis-sentinel,
redis-cluster), `addresses` (host:port,… with the scheme's default port), `master`, `db`, `tls`
and `prefix` (hash-tagged on a Cluster, as the agent does). Same grammar as redis.url of the
agent (agent/queue/redis-url.ts). Hosts are read by the KEDA operator from its own namespace, so
a Redis Service of yours should be named in full (redis.<namespace>.svc).
*/}}
{{- define "perimeter.redisTarget" -}}
{{- $url := include "perimeter.redisUrl" . -}}
{{- if .Values.redis.inChart.enabled -}}
{{- /* The KEDA operator runs in its own namespace: name the Service in full. */ -}}
{{- $url = printf "redis://%s.%s.svc:6379" (include "perimeter.redisName" .) .Release.Namespace -}}
{{- end -}}
{{- $scheme := regexReplaceAll "^([a-z-]+)://.*$" $url "${1}" -}}
{{- $authority := regexReplaceAll "^[a-z-]+://([^/]*).*$" $url "${1}" -}}
{{- $segments := compact (splitList "/" (regexReplaceAll "^[a-z-]+://[^/]*" $url "")) -}}
{{- $type := "redis" -}}
{{- $port := 6379 -}}
{{- if contains "sentinel" $scheme -}}
{{- $type = "redis-sentinel" -}}
{{- $port = 26379 -}}
{{- else if contains "cluster" $scheme -}}
{{- $type = "redis-cluster" -}}
{{- end -}}
{{- $addresses := list -}}
{{- range splitList "," $authority -}}
{{- $addresses = append $addresses (ternary . (printf "%s:%d" . $port) (regexMatch ":[0-9]+$" .)) -}}
{{- end -}}
{{- $master := "" -}}
{{- $db := "0" -}}
{{- if eq $type "redis-sentinel" -}}
{{- $master = index $segments 0 -}}
{{- if gt (len $segments) 1 -}}
{{- $db = index $segments 1 -}}
{{- end -}}
{{- else if and (eq $type "redis") (gt (len $segments) 0) -}}
{{- $db = index $segments 0 -}}
{{- end -}}
{{- $prefix := ternary (printf "{%s}" .Values.redis.prefix) .Values.redis.prefix (eq $type "redis-cluster") -}}
{{- toJson (dict "type" $type "addresses" (join "," $addresses) "master" $master "db" $db "tls" (hasPrefix "rediss" $scheme) "prefix" $prefix) -}}
{{- end -}}

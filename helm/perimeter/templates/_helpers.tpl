{{- define "perimeter.name" -}}
{{- .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "perimeter.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "perimeter.labels" -}}
app.kubernetes.io/name: {{ include "perimeter.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "perimeter.selectorLabels" -}}
app.kubernetes.io/name: {{ include "perimeter.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "perimeter.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "perimeter.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "perimeter.image" -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}
{{- end -}}

{{/* The config file: chart-managed settings, then the user's `config` on top of them. */}}
{{/* "true" when any review mode (agent-wide or per connection) is not off. */}}
{{- define "perimeter.reviewOn" -}}
{{- $on := ne .Values.review.mode "off" -}}
{{- range $id, $mode := .Values.review.connections -}}
{{- if ne $mode "off" -}}{{- $on = true -}}{{- end -}}
{{- end -}}
{{- $on -}}
{{- end -}}

{{- define "perimeter.config" -}}
{{- $managed := dict -}}
{{- $_ := set $managed "agent" (dict "id" (default .Release.Name .Values.agent.id) "logLevel" .Values.agent.logLevel) -}}
{{- $redis := dict "url" (include "perimeter.redisUrl" .) "prefix" .Values.redis.prefix -}}
{{- with .Values.redis.username -}}
{{- $_ := set $redis "username" . -}}
{{- end -}}
{{- if .Values.redis.passwordSecret.name -}}
{{- $_ := set $redis "password" (printf "file:///var/run/secrets/perimeter/redis-password/%s" .Values.redis.passwordSecret.key) -}}
{{- end -}}
{{- if .Values.redis.caBundle.configMap -}}
{{- $_ := set $redis "caFile" (printf "/etc/perimeter/redis-ca/%s" .Values.redis.caBundle.key) -}}
{{- end -}}
{{- $_ := set $managed "redis" $redis -}}
{{- if .Values.catalog.url -}}
{{- $catalog := dict "url" .Values.catalog.url -}}
{{- if .Values.catalog.tokenSecret.name -}}
{{- $_ := set $catalog "token" (printf "file:///var/run/secrets/perimeter/catalog-token/%s" .Values.catalog.tokenSecret.key) -}}
{{- end -}}
{{- $_ := set $managed "catalog" $catalog -}}
{{- end -}}
{{- if .Values.controlPlane.enabled -}}
{{- $cp := dict "url" .Values.controlPlane.url "agentToken" (printf "file:///var/run/secrets/perimeter/agent-token/%s" .Values.controlPlane.agentTokenSecret.key) -}}
{{- if .Values.controlPlane.publicKey -}}
{{- $_ := set $cp "publicKey" .Values.controlPlane.publicKey -}}
{{- end -}}
{{- if .Values.controlPlane.clientCertSecret -}}
{{- $_ := set $cp "clientCertFile" "/var/run/secrets/perimeter/control-plane-tls/tls.crt" -}}
{{- $_ := set $cp "clientKeyFile" "/var/run/secrets/perimeter/control-plane-tls/tls.key" -}}
{{- end -}}
{{- $_ := set $managed "controlPlane" $cp -}}
{{- end -}}
{{- $_ := set $managed "health" (dict "port" .Values.health.port) -}}
{{- $_ := set $managed "queue" (dict "shutdownGraceMs" (mul .Values.shutdownGraceSeconds 1000)) -}}
{{- if .Values.tls.extraCaBundle.configMap -}}
{{- $_ := set $managed "http" (dict "caFile" (printf "/etc/perimeter/ca/%s" .Values.tls.extraCaBundle.key)) -}}
{{- end -}}
{{- if eq (include "perimeter.reviewOn" .) "true" -}}
{{- $_ := set $managed "review" (dict "mode" .Values.review.mode "connections" .Values.review.connections "dir" "/var/lib/perimeter/review") -}}
{{- end -}}
{{- $config := mustMergeOverwrite (deepCopy $managed) (deepCopy .Values.config) -}}
{{- toYaml $config -}}
{{- end -}}

{{/* The pod spec of one role: `combined` (--role all), `link` or `worker`. */}}
{{- define "perimeter.podTemplate" -}}
{{- $root := .root -}}
{{- $role := .role -}}
metadata:
  labels:
    {{- include "perimeter.selectorLabels" $root | nindent 4 }}
    app.kubernetes.io/component: {{ $role }}
    {{- with $root.Values.podLabels }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
  annotations:
    checksum/config: {{ include "perimeter.config" $root | sha256sum }}
    {{- with $root.Values.podAnnotations }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
spec:
  serviceAccountName: {{ include "perimeter.serviceAccountName" $root }}
  automountServiceAccountToken: {{ $root.Values.serviceAccount.automountToken }}
  # Service links would inject PERIMETER_* variables for a Service named "perimeter…" (the release
  # "perimeter" names its Services so), which the agent refuses as unknown settings.
  enableServiceLinks: false
  terminationGracePeriodSeconds: {{ add $root.Values.shutdownGraceSeconds 10 }}
  {{- with $root.Values.imagePullSecrets }}
  imagePullSecrets:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  securityContext:
    runAsNonRoot: true
    runAsUser: 10001
    runAsGroup: 10001
    fsGroup: 10001
    seccompProfile:
      type: RuntimeDefault
  containers:
    - name: perimeter
      image: {{ include "perimeter.image" $root }}
      imagePullPolicy: {{ $root.Values.image.pullPolicy }}
      args: ["start", "--role", {{ ternary "all" $role (eq $role "combined") | quote }}]
      env:
        - name: PERIMETER_CONFIG
          value: /etc/perimeter/perimeter.yaml
        {{- with $root.Values.nodeOptions }}
        - name: NODE_OPTIONS
          value: {{ . | quote }}
        {{- end }}
        {{- if eq $role "worker" }}
        - name: PERIMETER_QUEUE_CONCURRENCY
          value: {{ $root.Values.worker.concurrency | quote }}
        {{- end }}
        {{- if ne $role "link" }}
        - name: PERIMETER_QUEUE_RUN_MEMORY_MB
          value: {{ $root.Values.worker.runMemoryMb | quote }}
        {{- end }}
        {{- with $root.Values.extraEnv }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
        {{- with $root.Values.proxy.httpsProxy }}
        - name: HTTPS_PROXY
          value: {{ . | quote }}
        {{- end }}
        {{- with $root.Values.proxy.httpProxy }}
        - name: HTTP_PROXY
          value: {{ . | quote }}
        {{- end }}
        {{- with $root.Values.proxy.noProxy }}
        - name: NO_PROXY
          value: {{ . | quote }}
        {{- end }}
      ports:
        - name: health
          containerPort: {{ $root.Values.health.port }}
          protocol: TCP
      livenessProbe:
        httpGet: { path: /livez, port: health }
        periodSeconds: 10
        failureThreshold: 6
      readinessProbe:
        httpGet: { path: /readyz, port: health }
        periodSeconds: 5
        failureThreshold: 2
      startupProbe:
        httpGet: { path: /livez, port: health }
        periodSeconds: 2
        failureThreshold: 30
      resources:
        {{- toYaml (get $root.Values $role).resources | nindent 8 }}
      securityContext:
        allowPrivilegeEscalation: false
        readOnlyRootFilesystem: true
        privileged: false
        capabilities:
          drop: ["ALL"]
      volumeMounts:
        - { name: config, mountPath: /etc/perimeter, readOnly: true }
        - { name: tmp, mountPath: /tmp }
        {{- if $root.Values.tls.extraCaBundle.configMap }}
        - { name: extra-ca, mountPath: /etc/perimeter/ca, readOnly: true }
        {{- end }}
        {{- if and $root.Values.controlPlane.enabled $root.Values.controlPlane.agentTokenSecret.name }}
        - { name: agent-token, mountPath: /var/run/secrets/perimeter/agent-token, readOnly: true }
        {{- end }}
        {{- if and $root.Values.controlPlane.enabled $root.Values.controlPlane.clientCertSecret }}
        - { name: control-plane-tls, mountPath: /var/run/secrets/perimeter/control-plane-tls, readOnly: true }
        {{- end }}
        {{- if $root.Values.catalog.tokenSecret.name }}
        - { name: catalog-token, mountPath: /var/run/secrets/perimeter/catalog-token, readOnly: true }
        {{- end }}
        {{- if $root.Values.redis.passwordSecret.name }}
        - { name: redis-password, mountPath: /var/run/secrets/perimeter/redis-password, readOnly: true }
        {{- end }}
        {{- if $root.Values.redis.caBundle.configMap }}
        - { name: redis-ca, mountPath: /etc/perimeter/redis-ca, readOnly: true }
        {{- end }}
        {{- if eq (include "perimeter.reviewOn" $root) "true" }}
        - { name: review, mountPath: /var/lib/perimeter/review }
        {{- end }}
        {{- range $root.Values.secretFiles }}
        - { name: {{ printf "secret-%s" . | quote }}, mountPath: {{ printf "/var/run/secrets/perimeter/%s" . | quote }}, readOnly: true }
        {{- end }}
        {{- with $root.Values.extraVolumeMounts }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
  volumes:
    - name: config
      configMap:
        name: {{ include "perimeter.fullname" $root }}
    - name: tmp
      emptyDir: { sizeLimit: 64Mi }
    {{- if $root.Values.tls.extraCaBundle.configMap }}
    - name: extra-ca
      configMap:
        name: {{ $root.Values.tls.extraCaBundle.configMap }}
    {{- end }}
    {{- if and $root.Values.controlPlane.enabled $root.Values.controlPlane.agentTokenSecret.name }}
    - name: agent-token
      secret: { secretName: {{ $root.Values.controlPlane.agentTokenSecret.name }}, defaultMode: 0400 }
    {{- end }}
    {{- if and $root.Values.controlPlane.enabled $root.Values.controlPlane.clientCertSecret }}
    - name: control-plane-tls
      secret: { secretName: {{ $root.Values.controlPlane.clientCertSecret }}, defaultMode: 0400 }
    {{- end }}
    {{- if $root.Values.catalog.tokenSecret.name }}
    - name: catalog-token
      secret: { secretName: {{ $root.Values.catalog.tokenSecret.name }}, defaultMode: 0400 }
    {{- end }}
    {{- if $root.Values.redis.passwordSecret.name }}
    - name: redis-password
      secret: { secretName: {{ $root.Values.redis.passwordSecret.name }}, defaultMode: 0400 }
    {{- end }}
    {{- if $root.Values.redis.caBundle.configMap }}
    - name: redis-ca
      configMap:
        name: {{ $root.Values.redis.caBundle.configMap }}
    {{- end }}
    {{- if eq (include "perimeter.reviewOn" $root) "true" }}
    - name: review
      persistentVolumeClaim: { claimName: {{ $root.Values.review.existingClaim | quote }} }
    {{- end }}
    {{- range $root.Values.secretFiles }}
    - name: {{ printf "secret-%s" . | quote }}
      secret: { secretName: {{ . | quote }}, defaultMode: 0400 }
    {{- end }}
    {{- with $root.Values.extraVolumes }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
  {{- with $root.Values.nodeSelector }}
  nodeSelector:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with $root.Values.tolerations }}
  tolerations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with $root.Values.affinity }}
  affinity:
    {{- toYaml . | nindent 4 }}
  {{- end }}
{{- end -}}

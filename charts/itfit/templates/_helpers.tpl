{{/*
Chart name, truncated to the 63 characters a label value allows.
*/}}
{{- define "itfit.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Fully qualified name: <release>-<chart>, or the release name when it already
contains the chart name. Truncated to 63 characters (DNS label limit).
*/}}
{{- define "itfit.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/*
Name of the embedded Redis resources.
*/}}
{{- define "itfit.redis.fullname" -}}
{{- printf "%s-redis" (include "itfit.fullname" . | trunc 57 | trimSuffix "-") }}
{{- end }}

{{/*
Chart label value.
*/}}
{{- define "itfit.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Labels shared by every resource.
*/}}
{{- define "itfit.commonLabels" -}}
helm.sh/chart: {{ include "itfit.chart" . }}
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | trunc 63 | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: itfit
{{- end }}

{{/*
Selector labels of the bot pods (immutable once installed).
*/}}
{{- define "itfit.selectorLabels" -}}
app.kubernetes.io/name: {{ include "itfit.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: bot
{{- end }}

{{/*
Full labels of bot resources.
*/}}
{{- define "itfit.labels" -}}
{{ include "itfit.commonLabels" . }}
{{ include "itfit.selectorLabels" . }}
{{- end }}

{{/*
Selector labels of the embedded Redis pod.
*/}}
{{- define "itfit.redis.selectorLabels" -}}
app.kubernetes.io/name: {{ include "itfit.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: redis
{{- end }}

{{/*
Full labels of embedded Redis resources.
*/}}
{{- define "itfit.redis.labels" -}}
{{ include "itfit.commonLabels" . }}
{{ include "itfit.redis.selectorLabels" . }}
{{- end }}

{{/*
ServiceAccount name.
*/}}
{{- define "itfit.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "itfit.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/*
Name of the Secret with the credentials (chart-rendered or existing).
*/}}
{{- define "itfit.secretName" -}}
{{- if .Values.existingSecret }}
{{- .Values.existingSecret }}
{{- else }}
{{- include "itfit.fullname" . }}
{{- end }}
{{- end }}

{{/*
Whether the chart renders its own Secret: only without existingSecret and
with at least one credential (or webhook endpoint, which holds secrets) set.
*/}}
{{- define "itfit.renderSecret" -}}
{{- if not .Values.existingSecret }}
{{- range $k, $v := .Values.secrets }}{{ if $v }}true{{ end }}{{ end }}
{{- if (.Values.webhooks).endpoints }}true{{ end }}
{{- end }}
{{- end }}

{{/*
Name of the ConfigMap holding the audit file.
*/}}
{{- define "itfit.auditConfigMapName" -}}
{{- if .Values.auditFile.existingConfigMap }}
{{- .Values.auditFile.existingConfigMap }}
{{- else }}
{{- printf "%s-audit" (include "itfit.fullname" . | trunc 57 | trimSuffix "-") }}
{{- end }}
{{- end }}

{{/*
Bot image reference: repository@digest, or repository:tag (tag defaults to appVersion).
*/}}
{{- define "itfit.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) }}
{{- end }}
{{- end }}

{{/*
REDIS_URL the ConfigMap sets, if any: the embedded Redis wins, then redis.url.
A REDIS_URL in the Secret is used only when neither is set.
*/}}
{{- define "itfit.redisURL" -}}
{{- if .Values.redis.embedded.enabled }}
{{- printf "redis://%s:6379/0" (include "itfit.redis.fullname" .) }}
{{- else if .Values.redis.url }}
{{- .Values.redis.url }}
{{- end }}
{{- end }}

{{/*
"true" when an ingress.tls block lists the first Ingress host.
*/}}
{{- define "itfit.ingressHostHasTLS" -}}
{{- if and .Values.ingress.enabled .Values.ingress.hosts }}
{{- $host := first .Values.ingress.hosts }}
{{- range .Values.ingress.tls }}
{{- if has $host (.hosts | default list) }}true{{ end }}
{{- end }}
{{- end }}
{{- end }}

{{/*
ITFIT_PUBLIC_URL: publicURL, else https:// and the first Ingress host (TLS
may end in front of the Ingress, and Slack only redirects to https), else
empty.
*/}}
{{- define "itfit.appPublicURL" -}}
{{- if .Values.publicURL }}
{{- .Values.publicURL | trimSuffix "/" }}
{{- else if and .Values.ingress.enabled .Values.ingress.hosts }}
{{- printf "https://%s" (first .Values.ingress.hosts) }}
{{- end }}
{{- end }}

{{/*
Misconfigurations that cannot be expressed in values.schema.json.
*/}}
{{- define "itfit.validate" -}}
{{- if and .Values.redis.embedded.enabled .Values.redis.url }}
{{- fail "redis.embedded.enabled and redis.url are both set: choose one Redis" }}
{{- end }}
{{- if and .Values.redis.embedded.enabled .Values.secrets.redisURL (not .Values.existingSecret) }}
{{- fail "redis.embedded.enabled and secrets.redisURL are both set: choose one Redis" }}
{{- end }}
{{- if and .Values.redis.url .Values.secrets.redisURL (not .Values.existingSecret) }}
{{- fail "redis.url and secrets.redisURL are both set: put a URL with a password in secrets.redisURL only" }}
{{- end }}
{{- if and (gt (int .Values.preStopSleepSeconds) 0) (le (int .Values.terminationGracePeriodSeconds) (int .Values.preStopSleepSeconds)) }}
{{- fail "terminationGracePeriodSeconds must exceed preStopSleepSeconds (plus the app's drain time)" }}
{{- end }}
{{- if and .Values.autoscaling.enabled (gt (int .Values.autoscaling.minReplicas) (int .Values.autoscaling.maxReplicas)) }}
{{- fail "autoscaling.minReplicas must not exceed autoscaling.maxReplicas" }}
{{- end }}
{{- if and .Values.autoscaling.enabled (not (or (gt (int .Values.autoscaling.targetCPUUtilizationPercentage) 0) (gt (int .Values.autoscaling.targetMemoryUtilizationPercentage) 0))) }}
{{- fail "autoscaling.enabled needs targetCPUUtilizationPercentage or targetMemoryUtilizationPercentage above 0" }}
{{- end }}
{{- if and .Values.auditFile.enabled (not .Values.auditFile.existingConfigMap) (not .Values.auditFile.content) }}
{{- fail "auditFile.enabled needs auditFile.content (e.g. --set-file auditFile.content=audit.yaml) or auditFile.existingConfigMap" }}
{{- end }}
{{- if and .Values.ingress.enabled (not .Values.ingress.hosts) }}
{{- fail "ingress.enabled needs at least one host in ingress.hosts" }}
{{- end }}
{{- if and .Values.config.slackClientID (not (include "itfit.appPublicURL" .)) }}
{{- fail "config.slackClientID (Add to Slack) needs the bot's public address: set publicURL=https://<host>, or ingress.enabled=true with ingress.hosts; Slack sends installs back to it (ITFIT_PUBLIC_URL/slack/oauth/callback)" }}
{{- end }}
{{- if regexMatch "^[^:/]+://[^/?#]*@" .Values.redis.url }}
{{- fail "redis.url holds credentials (user:password@) and would be stored in a ConfigMap: put the whole URL in secrets.redisURL, or as REDIS_URL in existingSecret, and leave redis.url empty" }}
{{- end }}
{{- if regexMatch "[?&](password|sentinel_password)=" .Values.redis.url }}
{{- fail "redis.url holds a password parameter and would be stored in a ConfigMap: put the whole URL in secrets.redisURL, or as REDIS_URL in existingSecret, and leave redis.url empty" }}
{{- end }}
{{- if and .Values.existingSecret (.Values.webhooks).endpoints }}
{{- fail "webhooks.endpoints hold signing secrets and go into the chart's Secret, which existingSecret replaces: put ITFIT_WEBHOOKS (the endpoints as JSON) in that Secret and leave webhooks.endpoints empty" }}
{{- end }}
{{- if eq (int .Values.admin.port) (int .Values.containerPort) }}
{{- fail "admin.port must differ from containerPort: probes and metrics have a listener of their own" }}
{{- end }}
{{- end }}

{{/*
Selector labels of the `helm test` pod that runs `bot check`: not the bot's,
so the Service never sends it traffic.
*/}}
{{- define "itfit.check.selectorLabels" -}}
app.kubernetes.io/name: {{ include "itfit.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: check
{{- end }}

{{/*
The bot container's envFrom, shared with the `helm test` pod so that
`bot check` sees exactly the bot's configuration. The ConfigMap is listed
after the Secret so its REDIS_URL (embedded Redis or redis.url) wins over
one in the Secret.
*/}}
{{- define "itfit.envFrom" -}}
{{- if or .Values.existingSecret (include "itfit.renderSecret" .) }}
- secretRef:
    name: {{ include "itfit.secretName" . }}
{{- end }}
- configMapRef:
    name: {{ include "itfit.fullname" . }}
{{- with .Values.extraEnvFrom }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/*
NOTES: the kubectl command that creates the credentials Secret, with the
keys of the platforms this release configures.
*/}}
{{- define "itfit.notes.createSecret" -}}
{{- printf "  kubectl create secret generic %s --namespace %s \\" (.Values.existingSecret | default "itfit-credentials") .Release.Namespace }}
{{- if .Values.config.slackClientID }}
    --from-literal=SLACK_SIGNING_SECRET=... --from-literal=SLACK_CLIENT_SECRET=... \
    --from-literal=ITFIT_ENCRYPTION_KEY="k1:$(head -c32 /dev/urandom | base64)" \
{{- else }}
    --from-literal=SLACK_SIGNING_SECRET=... --from-literal=SLACK_BOT_TOKEN=xoxb-... \
{{- end }}
    --from-literal=MICROSOFT_APP_ID=... --from-literal=MICROSOFT_APP_PASSWORD=...
{{- if not (or .Values.redis.url .Values.redis.embedded.enabled) }} \
    --from-literal=REDIS_URL=rediss://:PASSWORD@redis.example.com:6380/0
{{- end }}
  (leave out the platforms you do not use)
{{- end }}

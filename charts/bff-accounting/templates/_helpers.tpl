{{/*
The app's name, "bff-accounting": the app.kubernetes.io/name label, which the ServiceMonitor
turns into the Prometheus job label.
*/}}
{{- define "bff-accounting.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
The objects' name: "bff-accounting" whatever the release is called (release "bff" would give
"bff-bff-accounting" under helm create's rule), because the checklist, the runbooks and the
alerts name the Deployment bff-accounting.
*/}}
{{- define "bff-accounting.fullname" -}}
{{- default .Chart.Name .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "bff-accounting.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "bff-accounting.imageTag" -}}
{{- $tag := .Values.image.tag | default .Chart.AppVersion }}
{{- if kindIs "float64" $tag }}{{ $tag | int64 }}{{ else }}{{ $tag }}{{ end }}
{{- end }}

{{- define "bff-accounting.image" -}}
{{- printf "%s:%s" .Values.image.repository (include "bff-accounting.imageTag" .) }}
{{- end }}

{{/*
Common labels; each object adds app.kubernetes.io/component.
*/}}
{{- define "bff-accounting.labels" -}}
helm.sh/chart: {{ include "bff-accounting.chart" . }}
{{ include "bff-accounting.selectorLabels" . }}
app.kubernetes.io/version: {{ include "bff-accounting.imageTag" . | trunc 63 | trimSuffix "-" | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "bff-accounting.selectorLabels" -}}
app.kubernetes.io/name: {{ include "bff-accounting.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/*
The BFF pods: the Deployment's selector, the Service's, the PDB's and the NetworkPolicy's. The
component keeps the worker and migration pods out of the Service.
*/}}
{{- define "bff-accounting.apiSelectorLabels" -}}
{{ include "bff-accounting.selectorLabels" . }}
app.kubernetes.io/component: api
{{- end }}

{{- define "bff-accounting.apiLabels" -}}
{{ include "bff-accounting.labels" . }}
app.kubernetes.io/component: api
{{- end }}

{{- define "bff-accounting.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "bff-accounting.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/*
OS_TENANT_ALLOWLIST_JSON: env.OS_TENANT_ALLOWLIST_JSON as given, else pilotTenants as JSON,
else nothing (no restriction).
*/}}
{{- define "bff-accounting.tenantAllowlist" -}}
{{- if .Values.env.OS_TENANT_ALLOWLIST_JSON }}
{{- .Values.env.OS_TENANT_ALLOWLIST_JSON }}
{{- else if kindIs "slice" .Values.pilotTenants }}
{{- toJson .Values.pilotTenants }}
{{- end }}
{{- end }}

{{- define "bff-accounting.bankBase" -}}
{{- if or .Values.adapters.bankSbx.enabled .Values.env.BANK_SBX_BASE }}
{{- .Values.env.BANK_SBX_BASE | default .Values.adapters.bankSbx.base }}
{{- end }}
{{- end }}

{{/*
The environment every container of the chart gets (the BFF, the worker and the migrations read
one configuration): the database, then env.* (computed and secret ones aside).
*/}}
{{- define "bff-accounting.commonEnv" -}}
{{- if .Values.env.BANK_SBX_TOKEN }}
{{- fail "env.BANK_SBX_TOKEN must stay empty: put the token in the Secret adapters.bankSbx.tokenSecretName (key adapters.bankSbx.tokenSecretKey)" }}
{{- end -}}
- name: USE_PG
  value: "1"
- name: DATABASE_URL
  valueFrom:
    secretKeyRef:
      name: {{ required "database.existingSecret: name the Secret that holds the PostgreSQL URL" .Values.database.existingSecret }}
      key: {{ .Values.database.secretKey }}
{{- with include "bff-accounting.tenantAllowlist" . }}
- name: OS_TENANT_ALLOWLIST_JSON
  value: {{ . | quote }}
{{- end }}
{{- with include "bff-accounting.bankBase" . }}
- name: BANK_SBX_BASE
  value: {{ . | quote }}
{{- end }}
{{- range $name, $value := .Values.env }}
{{- if not (has $name (list "OS_TENANT_ALLOWLIST_JSON" "BANK_SBX_BASE" "BANK_SBX_TOKEN")) }}
{{- $text := "" }}
{{- if kindIs "float64" $value }}
{{- $text = $value | int64 | toString }}
{{- else if not (kindIs "invalid" $value) }}
{{- $text = toString $value }}
{{- end }}
{{- if ne $text "" }}
- name: {{ $name }}
  value: {{ $text | quote }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}

{{- define "bff-accounting.connectionsEnv" -}}
{{- if and .Values.adapters.bankSbx.enabled .Values.adapters.bankSbx.connections -}}
- name: BANK_SBX_CONNECTIONS_JSON
  value: {{ toJson .Values.adapters.bankSbx.connections | quote }}
{{- end }}
{{- end }}

{{/*
Every pod of the chart: non-root, no service account token, /tmp the only writable path.
*/}}
{{- define "bff-accounting.podSecurity" -}}
automountServiceAccountToken: false
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
securityContext:
  {{- toYaml .Values.podSecurityContext | nindent 2 }}
{{- end }}

{{- define "bff-accounting.tmpVolume" -}}
- name: tmp
  emptyDir:
    sizeLimit: 64Mi
{{- end }}

{{- define "bff-accounting.tmpMount" -}}
- name: tmp
  mountPath: /tmp
{{- end }}

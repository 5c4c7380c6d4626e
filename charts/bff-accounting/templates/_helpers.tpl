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
AUTH_* from auth.* (docs/POLICY.md "Authentication"). auth.mode empty: nothing, and the app
refuses to start with NODE_ENV=production (values.yaml says why that is left to the app). jwt:
issuer, audience and one key source are required here, so a half-filled block fails at render.
*/}}
{{- define "bff-accounting.authEnv" -}}
{{- /* Nil-safe: `helm upgrade --reuse-values` from a release older than the auth block has none. */}}
{{- $auth := .Values.auth | default dict }}
{{- $publicKey := $auth.publicKey | default dict }}
{{- $claims := $auth.claims | default dict }}
{{- with $auth.mode }}
- name: AUTH_MODE
  value: {{ . | quote }}
{{- end }}
{{- if eq ($auth.mode | default "") "jwt" }}
{{- if and $auth.jwksUrl $publicKey.secretName }}
{{- fail "auth: set auth.jwksUrl or auth.publicKey.secretName, not both" }}
{{- end }}
{{- if not (or $auth.jwksUrl $publicKey.secretName) }}
{{- fail "auth.mode=jwt needs auth.jwksUrl (the identity provider's JWKS URL) or auth.publicKey.secretName" }}
{{- end }}
{{- with $auth.jwksUrl }}
- name: AUTH_JWKS_URL
  value: {{ . | quote }}
{{- end }}
{{- with $publicKey.secretName }}
- name: AUTH_PUBLIC_KEY
  valueFrom:
    secretKeyRef:
      name: {{ . }}
      key: {{ $publicKey.secretKey | default "AUTH_PUBLIC_KEY" }}
{{- end }}
- name: AUTH_ISSUER
  value: {{ required "auth.issuer: the tokens' issuer (iss) is required with auth.mode=jwt" $auth.issuer | quote }}
- name: AUTH_AUDIENCE
  value: {{ required "auth.audience: the tokens' audience (aud) is required with auth.mode=jwt" $auth.audience | quote }}
{{- with $auth.algorithms }}
- name: AUTH_ALGORITHMS
  value: {{ . | quote }}
{{- end }}
- name: AUTH_CLOCK_SKEW_SECONDS
  {{- /* hasKey, not default: 0 is a valid skew. */}}
  value: {{ int (ternary $auth.clockSkewSeconds 30 (hasKey $auth "clockSkewSeconds")) | toString | quote }}
- name: AUTH_TENANT_CLAIM
  value: {{ $claims.tenant | default "tenant" | quote }}
- name: AUTH_ROLE_CLAIM
  value: {{ $claims.role | default "role" | quote }}
- name: AUTH_USER_CLAIM
  value: {{ $claims.user | default "sub" | quote }}
{{- end }}
{{- end }}

{{/*
AUDIT_CHAIN_KEY and AUDIT_CHAIN_KEY_PREV from the Secret auditChain.existingSecret (docs/POLICY.md
"Audit trail integrity"): the BFF, the worker and the migration Job all chain audit events.
Empty: nothing, and the app refuses to start with NODE_ENV=production.
*/}}
{{- define "bff-accounting.auditChainEnv" -}}
{{- /* Nil-safe: `helm upgrade --reuse-values` from a release older than the auditChain block has none. */}}
{{- $chain := .Values.auditChain | default dict }}
{{- with $chain.existingSecret }}
- name: AUDIT_CHAIN_KEY
  valueFrom:
    secretKeyRef:
      name: {{ . }}
      key: {{ $chain.keyKey | default "AUDIT_CHAIN_KEY" }}
- name: AUDIT_CHAIN_KEY_PREV
  valueFrom:
    secretKeyRef:
      name: {{ . }}
      key: {{ $chain.previousKeyKey | default "AUDIT_CHAIN_KEY_PREV" }}
      # Present only during a key rotation.
      optional: true
{{- end }}
{{- end }}

{{/*
The environment every container of the chart gets (the BFF, the worker and the migrations read
one configuration): NODE_ENV=production, the database, the identity settings, then env.*
(computed and secret ones aside).
*/}}
{{- define "bff-accounting.commonEnv" -}}
{{- if .Values.env.BANK_SBX_TOKEN }}
{{- fail "env.BANK_SBX_TOKEN must stay empty: put the token in the Secret adapters.bankSbx.tokenSecretName (key adapters.bankSbx.tokenSecretKey)" }}
{{- end -}}
- name: NODE_ENV
  value: "production"
- name: USE_PG
  value: "1"
- name: DATABASE_URL
  valueFrom:
    secretKeyRef:
      name: {{ required "database.existingSecret: name the Secret that holds the PostgreSQL URL" .Values.database.existingSecret }}
      key: {{ .Values.database.secretKey }}
{{- include "bff-accounting.authEnv" . }}
{{- include "bff-accounting.auditChainEnv" . }}
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

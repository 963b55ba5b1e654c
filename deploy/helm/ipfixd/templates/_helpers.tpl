{{/* The release's base name, at most 63 characters (a DNS label). */}}
{{- define "ipfixd.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "ipfixd.selectorLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "ipfixd.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{ include "ipfixd.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{- define "ipfixd.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}

{{/* The API address probes use: config.api.listen (a loopback address, ipfixd -t insists). */}}
{{- define "ipfixd.apiListen" -}}
{{- $api := default dict .Values.config.api -}}
{{- default "127.0.0.1:8080" $api.listen -}}
{{- end -}}

{{- define "ipfixd.apiEnabled" -}}
{{- $api := default dict .Values.config.api -}}
{{- if or (not (hasKey $api "enabled")) $api.enabled -}}true{{- end -}}
{{- end -}}

{{/* The node's network: asked for, or needed by packet capture on the node's interfaces. */}}
{{- define "ipfixd.hostNetwork" -}}
{{- if or .Values.hostNetwork .Values.capture.enabled }}true{{ end -}}
{{- end }}

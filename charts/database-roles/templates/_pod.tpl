{{- define "database-roles.pod" -}}
metadata:
  labels:
    app.kubernetes.io/name: database-roles
    app.kubernetes.io/part-of: flightdeck
spec:
  restartPolicy: Never
  automountServiceAccountToken: false
  securityContext:
    runAsNonRoot: true
    runAsUser: 70
    runAsGroup: 70
    seccompProfile:
      type: RuntimeDefault
  nodeSelector:
    {{- toYaml .Values.nodeSelector | nindent 4 }}
  tolerations:
    {{- toYaml .Values.tolerations | nindent 4 }}
  containers:
    {{- range $index, $role := required "roles are required" .Values.roles }}
    # One container per Airflow: its role, its password, its database.
    - name: {{ printf "role-%d" $index | quote }}
      image: {{ required "image is required" $.Values.image | quote }}
      command: ["psql", "--no-psqlrc", "-v", "ON_ERROR_STOP=1", "-f", "/sql/roles.sql"]
      env:
        - {name: PGHOST, value: {{ required "database.host is required" $.Values.database.host | quote }}}
        - {name: PGPORT, value: {{ $.Values.database.port | quote }}}
        - {name: PGDATABASE, value: {{ required "database.name is required" $.Values.database.name | quote }}}
        - {name: PGSSLMODE, value: {{ $.Values.database.sslmode | default "require" | quote }}}
        - name: PGUSER
          valueFrom: {secretKeyRef: {name: {{ $.Values.masterSecret | quote }}, key: username}}
        - name: PGPASSWORD
          valueFrom: {secretKeyRef: {name: {{ $.Values.masterSecret | quote }}, key: password}}
        - {name: APP_USER, value: {{ required "roles[].user is required" $role.user | quote }}}
        - {name: APP_DATABASE, value: {{ required "roles[].database is required" $role.database | quote }}}
        - name: APP_PASSWORD
          valueFrom: {secretKeyRef: {name: {{ required "roles[].passwordSecretName is required" $role.passwordSecretName | quote }}, key: password}}
      resources:
        requests: {cpu: 50m, memory: 64Mi}
        limits: {memory: 64Mi}
      securityContext:
        allowPrivilegeEscalation: false
        readOnlyRootFilesystem: true
        capabilities: {drop: ["ALL"]}
      volumeMounts:
        - {name: sql, mountPath: /sql, readOnly: true}
    {{- end }}
  volumes:
    - name: sql
      configMap: {name: database-roles-sql}
{{- end }}

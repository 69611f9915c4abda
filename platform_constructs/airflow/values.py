"""Helm values for the official Airflow chart (1.22.0), built by small pure functions.

Nothing here touches cdktf: the functions take plain props and return dicts, so tests validate
each environment's values against the chart's own JSON schema without synthesizing anything.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import yaml

from ..handles import DatabaseHandle, IngressHandle, LogStore, SecretsBackend, StatsdSink, WorkloadIdentity
from ..kubernetes.addons import RELOAD_ON_CHANGE
from ..placement import DO_NOT_DISRUPT, SYSTEM_POOL, WORKERS_POOL
from ..workloads import AIRFLOW_RELEASE
from .managed import MANAGED_CONFIG
from .signin import CLIENT_SECRET_KEY, CLIENT_SECRET_VARIABLE, SignInSpec, webserver_config

CHART = "airflow"
CHART_REPOSITORY = "https://airflow.apache.org"
CHART_VERSION = "1.22.0"
"""Pinned chart release (default Airflow 3.2.2)."""

PGBOUNCER_PORT = 6543
API_SERVER_PORT = 8080
STATSD_PORT = 9125
METADATA_POOL = f"{AIRFLOW_RELEASE}-metadata"
"""PgBouncer's name for the metadata database (the chart's convention)."""

TASK_COMPONENT = "task"
"""The ``component`` label of KubernetesExecutor task pods (the chart's default template says ``worker``,
as it does for Celery workers): network policies and admission tell tasks from components by it."""
DATABASE_COMPONENTS = (
    "scheduler", "api-server", "dag-processor", "triggerer", "run-airflow-migrations", "create-user-job", "database-cleanup",
)  # fmt: skip
"""The ``component`` labels of the chart's pods that use the metadata database (Airflow 3.2: the
scheduler, API server, DAG processor and triggerer; the migration and user jobs); Celery workers too
when the executor is Celery (the database is the result backend). Never task pods: Airflow 3's tasks
reach the metadata through the API server's Execution API only."""
CONFIG_MAP = f"{AIRFLOW_RELEASE}-config"
"""The chart's ConfigMap with ``airflow.cfg`` (``<release>-config``)."""
AIRFLOW_CFG = "/opt/airflow/airflow.cfg"

# Chart keys of each component Flightdeck runs (chart section, pod ``component`` label, workload name).
COMPONENTS: dict[str, tuple[str, str, str]] = {
    "scheduler": ("scheduler", "scheduler", "scheduler"),
    "api_server": ("apiServer", "api-server", "api-server"),
    "triggerer": ("triggerer", "triggerer", "triggerer"),
    "dag_processor": ("dagProcessor", "dag-processor", "dag-processor"),
}


@dataclass(frozen=True, kw_only=True)
class ResourceSpec:
    cpu: str
    memory: str

    def requirements(self) -> dict[str, dict[str, str]]:
        # No CPU limit: throttling a scheduler makes heartbeats late; memory is limited so one
        # leaking pod cannot take its node down.
        return {"requests": {"cpu": self.cpu, "memory": self.memory}, "limits": {"memory": self.memory}}


@dataclass(frozen=True, kw_only=True)
class ComponentSpec:
    replicas: int
    resources: ResourceSpec


@dataclass(frozen=True, kw_only=True)
class GitDagSource:
    repository: str
    ref: str
    subdir: str
    credentials: bool
    """True: the connection (with credentials) comes from a synced secret."""


@dataclass(frozen=True, kw_only=True)
class UiSpec:
    hostname: str
    certificate: str
    public: bool = False
    allowed_cidrs: Sequence[str] = ()


@dataclass(frozen=True, kw_only=True)
class SecretNames:
    """Kubernetes secrets the release reads; the External Secrets Operator writes them."""

    metadata: str = "airflow-metadata"
    pgbouncer_config: str = "airflow-pgbouncer-config"
    pgbouncer_stats: str = "airflow-pgbouncer-stats"
    fernet_key: str = "airflow-fernet-key"
    api_secret_key: str = "airflow-api-secret-key"
    jwt_secret: str = "airflow-jwt-secret"
    admin_password: str = "airflow-admin-password"
    dags_git: str = "airflow-dags-git"
    sign_in_client: str = "airflow-sign-in-client"


@dataclass(frozen=True, kw_only=True)
class CleanupSpec:
    retention_days: int
    schedule: str


@dataclass(frozen=True, kw_only=True)
class AirflowValuesProps:
    namespace: str
    executor: str
    image_repository: str
    image_tag: str
    airflow_version: str | None
    """The image's Airflow version, so the chart's choices fit it; None: the chart's own default."""
    components: Mapping[str, ComponentSpec]
    """By key of ``COMPONENTS`` plus ``pgbouncer``."""
    task_resources: ResourceSpec
    identities: Mapping[str, WorkloadIdentity]
    database: DatabaseHandle
    log_store: LogStore | None
    """None: no remote task logs (they stay in the task pod's own log)."""
    ingress: IngressHandle
    ui: UiSpec
    celery_workers: int = 2
    """The most Celery workers KEDA scales to."""
    celery_min_workers: int = 0
    """The fewest (0: none while nothing is queued)."""
    git: GitDagSource | None = None
    """None: DAGs are baked into the image."""
    create_admin_user: bool = False
    zone_spread: Literal["DoNotSchedule", "ScheduleAnyway"] = "ScheduleAnyway"
    """Hard spreading across zones (prod) or best effort."""
    config_overrides: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    secrets: SecretNames = SecretNames()
    metrics: StatsdSink | None = None
    """Where StatsD metrics go (the Datadog Agent); None: the chart's own StatsD exporter."""
    statsd_prefix: str = "airflow"
    """The StatsD prefix: the agent's mapper profile of that prefix tags the metrics with their Airflow."""
    sign_in: SignInSpec | None = None
    """Single sign-on for the UI; None: FAB's own users only (dev's generated admin)."""
    cleanup: CleanupSpec | None = None
    """The database cleanup CronJob; None: off."""
    secrets_backend: SecretsBackend | None = None
    """Connections and Variables from the cloud's secret store (this Airflow's prefixes); None: the database only."""


def uses_celery(executor: str) -> bool:
    return "CeleryExecutor" in executor.split(",")


def _spread(component_label: str, when: str) -> list[dict[str, Any]]:
    return [
        {
            "maxSkew": 1,
            "topologyKey": "topology.kubernetes.io/zone",
            "whenUnsatisfiable": when,
            "labelSelector": {"matchLabels": {"component": component_label, "release": AIRFLOW_RELEASE}},
        }
    ]


def _service_account(identity: WorkloadIdentity) -> dict[str, Any]:
    return {
        "create": True,
        "name": identity.workload.service_account,
        "annotations": dict(identity.service_account_annotations),
    }


def log_collection(props: AirflowValuesProps, container: str) -> dict[str, Any]:
    """A component's own log (not the tasks'), collected by the monitoring agent as ``<namespace>-<container>``:
    its ``podAnnotations``, or nothing where no agent collects logs."""
    logs = props.metrics.log_annotations(container, f"{props.namespace}-{container}") if props.metrics is not None else {}
    return {"podAnnotations": logs} if logs else {}


def component_values(props: AirflowValuesProps, key: str) -> dict[str, Any]:
    """Replicas, resources, identity, disruption budget and zone spread of one Airflow component."""
    _, label, workload = COMPONENTS[key]
    spec = props.components[key]
    values: dict[str, Any] = {
        # Restarted when a secret it reads changes (a rotated password, a new key): see kubernetes/addons.py, reloader.
        "annotations": dict(RELOAD_ON_CHANGE),
        "replicas": spec.replicas,
        "resources": spec.resources.requirements(),
        "serviceAccount": _service_account(props.identities[workload]),
        "podDisruptionBudget": {"enabled": True, "config": {"maxUnavailable": 1}},
        "topologySpreadConstraints": _spread(label, props.zone_spread),
    }
    values.update(log_collection(props, label))
    if key == "scheduler" or key == "triggerer":
        values["logGroomerSidecar"] = {"enabled": False}  # logs go to the bucket, nothing to groom
    if key == "triggerer":
        values["persistence"] = {"enabled": False}  # a Deployment, not a StatefulSet with a volume
    if key == "api_server" and props.sign_in is not None:
        values["apiServerConfig"] = webserver_config(props.sign_in)
        values["env"] = [
            {
                "name": CLIENT_SECRET_VARIABLE,
                "valueFrom": {"secretKeyRef": {"name": props.secrets.sign_in_client, "key": CLIENT_SECRET_KEY}},
            }
        ]
    if key == "dag_processor":
        values["enabled"] = True
        values["dagBundleConfigList"] = dag_bundles(props.git)
        values["logGroomerSidecar"] = {"enabled": False}
    return values


def dag_bundles(git: GitDagSource | None) -> list[dict[str, Any]]:
    """Airflow 3 DAG bundles. A git bundle is versioned: a DAG run keeps the commit it started with."""
    if git is None:
        return [{"name": "dags-folder", "classpath": "airflow.dag_processing.bundles.local.LocalDagBundle", "kwargs": {}}]
    return [
        {
            "name": "dags",
            "classpath": "airflow.providers.git.bundles.git.GitDagBundle",
            "kwargs": {"git_conn_id": "dags_git", "tracking_ref": git.ref, "subdir": git.subdir, "repo_url": git.repository},
        }
    ]


def airflow_config(props: AirflowValuesProps) -> dict[str, dict[str, Any]]:
    """The chart's ``config:`` (airflow.cfg): remote logs and the public URL, then the file's overrides."""
    managed: dict[str, dict[str, Any]] = {
        "core": {"load_examples": "False"},
        "logging": {
            "remote_logging": "True",
            "remote_base_log_folder": props.log_store.remote_base_log_folder,
            "remote_log_conn_id": props.log_store.connection_id,
            "delete_local_logs": "True",
        }
        if props.log_store is not None
        else {"remote_logging": "False"},
        "api": {"base_url": f"https://{props.ui.hostname}"},
        "kubernetes_executor": {"delete_worker_pods": "True", "delete_worker_pods_on_failure": "False"},
    }
    if props.secrets_backend is not None:
        # Connections and Variables from the cloud's store first, then the metadata database.
        managed["secrets"] = {
            "backend": props.secrets_backend.classpath,
            "backend_kwargs": json.dumps(dict(props.secrets_backend.kwargs), sort_keys=True),
        }
    if props.metrics is not None:
        # Plain StatsD names: the agent's mapper profile turns them into the integration's metrics.
        managed["metrics"] = {
            "statsd_on": "True",
            "statsd_host": props.metrics.host,
            "statsd_port": props.metrics.port,
            "statsd_prefix": props.statsd_prefix,
        }
    for section, options in props.config_overrides.items():
        for option, value in options.items():
            if (section, option) in MANAGED_CONFIG:
                raise ValueError(f"airflow.config.{section}.{option} is set by Flightdeck and cannot be overridden")
            managed.setdefault(section, {})[option] = value
    return managed


def ingress_values(props: AirflowValuesProps) -> dict[str, Any]:
    ingress = props.ingress
    annotations = dict(ingress.public_annotations if props.ui.public else ingress.internal_annotations)
    host: dict[str, Any] = {"name": props.ui.hostname}
    if ingress.tls_annotation is None:
        # The certificate is a TLS secret in Airflow's namespace (cert-manager or the cluster's owners make it).
        host["tls"] = {"enabled": True, "secretName": props.ui.certificate}
    else:
        annotations[ingress.tls_annotation] = props.ui.certificate
    if props.ui.public:
        if ingress.source_ranges_annotation is None:
            raise ValueError("this cloud's load balancer cannot limit its sources; the UI must stay internal")
        annotations[ingress.source_ranges_annotation] = ",".join(props.ui.allowed_cidrs)
    api_server: dict[str, Any] = {
        "enabled": True,
        "annotations": annotations,
        "hosts": [host],
        "path": "/",
        "pathType": "Prefix",
    }
    if ingress.class_name is not None:
        api_server["ingressClassName"] = ingress.class_name
    return {"apiServer": api_server}


def admin_user_job(props: AirflowValuesProps) -> dict[str, Any]:
    """Dev's admin user: its password is generated in the cluster, never written in values."""
    job: dict[str, Any] = {"enabled": props.create_admin_user, "useHelmHooks": False, "applyCustomEnv": False}
    if props.create_admin_user:
        job["env"] = [
            {
                "name": "FLIGHTDECK_ADMIN_PASSWORD",
                "valueFrom": {"secretKeyRef": {"name": props.secrets.admin_password, "key": "password"}},
            }
        ]
        # Kubernetes expands $(VAR) in args from the container's environment.
        job["args"] = [
            "bash", "-c", 'exec airflow users create "$@"', "--",
            "-r", "Admin", "-u", "admin", "-e", "admin@example.com", "-f", "Airflow", "-l", "Admin",
            "-p", "$(FLIGHTDECK_ADMIN_PASSWORD)",
        ]
    return job


def cleanup_values(props: AirflowValuesProps) -> dict[str, Any]:
    """``airflow db clean`` on a schedule. Purged rows are dropped (``skipArchive``): archive tables in the
    same database would keep it as large as before; the database's backups are the archive."""
    if props.cleanup is None:
        return {"enabled": False}
    return {
        "enabled": True,
        "schedule": props.cleanup.schedule,
        "retentionDays": props.cleanup.retention_days,
        "skipArchive": True,
        "applyCustomEnv": False,
        "nodeSelector": SYSTEM_POOL.node_selector(),
        "tolerations": SYSTEM_POOL.tolerations(),
        "resources": {"requests": {"cpu": "100m", "memory": "512Mi"}, "limits": {"memory": "512Mi"}},
        "ttlSecondsAfterFinished": 86400,
    }


def task_environment(props: AirflowValuesProps) -> tuple[list[dict[str, Any]], list[dict[str, str]]]:
    """Environment every Airflow pod gets besides the chart's standard one: (plain variables, variables from secrets)."""
    secrets = props.secrets
    logs = props.log_store
    env: list[dict[str, Any]] = []
    if logs is not None and logs.connection_uri is not None:
        env.append({"name": "AIRFLOW_CONN_" + logs.connection_id.upper(), "value": logs.connection_uri})
    secret_env = []
    if props.git is not None:
        if props.git.credentials:
            secret_env.append({"envName": "AIRFLOW_CONN_DAGS_GIT", "secretName": secrets.dags_git, "secretKey": "connection"})
        else:
            env.append({"name": "AIRFLOW_CONN_DAGS_GIT", "value": json.dumps({"conn_type": "git", "host": props.git.repository})})
    return env, secret_env


def task_secrets(props: AirflowValuesProps) -> list[str]:
    """The only Kubernetes secrets a task pod reads: the DAG repository's read credentials (a task
    fetches the DAG version it runs). Not the metadata connection, not the Fernet key."""
    return [props.secrets.dags_git] if props.git is not None and props.git.credentials else []


def task_pod_template(props: AirflowValuesProps) -> str:
    """The KubernetesExecutor pod template (the chart's ``podTemplate``), written out in full.

    The chart's default template adds its standard environment (the metadata connection and the
    Fernet key) to every task pod, and ``enableBuiltInSecretEnvVars`` would take them from every
    component as well. This one has Airflow's configuration file, the task-log and DAG-repository
    connections, the worker identity, the workers pool, and no platform secret. It has no Helm
    templating, so what the tests read is what the cluster gets.
    """
    env, secret_env = task_environment(props)
    container_env: list[dict[str, Any]] = [{"name": "AIRFLOW__CORE__EXECUTOR", "value": "LocalExecutor"}, *env]
    container_env += [
        {"name": item["envName"], "valueFrom": {"secretKeyRef": {"name": item["secretName"], "key": item["secretKey"]}}}
        for item in secret_env
    ]
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": "placeholder-name",
            "labels": {"tier": "airflow", "component": TASK_COMPONENT, "release": AIRFLOW_RELEASE},
            # Karpenter never drains a node voluntarily while a task runs on it.
            "annotations": {DO_NOT_DISRUPT: "true"},
        },
        "spec": {
            "containers": [
                {
                    "name": "base",
                    "image": f"{props.image_repository}:{props.image_tag}",
                    "imagePullPolicy": "IfNotPresent",
                    "env": container_env,
                    "resources": props.task_resources.requirements(),
                    "securityContext": {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}},
                    "volumeMounts": [
                        {"name": "logs", "mountPath": "/opt/airflow/logs"},
                        {"name": "config", "mountPath": AIRFLOW_CFG, "subPath": "airflow.cfg", "readOnly": True},
                    ],
                }
            ],
            "restartPolicy": "Never",
            "securityContext": {"runAsNonRoot": True, "runAsUser": 50000, "fsGroup": 0, "seccompProfile": {"type": "RuntimeDefault"}},
            # The worker identity: task logs, and KubernetesPodOperator's pods in the task namespaces.
            "serviceAccountName": props.identities["worker"].workload.service_account,
            "nodeSelector": WORKERS_POOL.node_selector(),
            "tolerations": WORKERS_POOL.tolerations(),
            "terminationGracePeriodSeconds": 600,
            "volumes": [{"name": "logs", "emptyDir": {}}, {"name": "config", "configMap": {"name": CONFIG_MAP}}],
        },
    }
    return yaml.safe_dump(pod, sort_keys=False)


def airflow_values(props: AirflowValuesProps) -> dict[str, Any]:
    """All values of the Airflow release for one environment."""
    missing = [key for key in (*COMPONENTS, "pgbouncer") if key not in props.components]
    if missing:
        raise ValueError(f"no sizing for Airflow components {missing}")
    celery = uses_celery(props.executor)
    secrets = props.secrets
    pgbouncer = props.components["pgbouncer"]
    env, secret_env = task_environment(props)
    values: dict[str, Any] = {
        "executor": props.executor,
        "images": {"airflow": {"repository": props.image_repository, "tag": props.image_tag}},
        **({"airflowVersion": props.airflow_version} if props.airflow_version else {}),
        # Secrets are produced in the cluster (External Secrets Operator), never passed as values.
        "fernetKeySecretName": secrets.fernet_key,
        "apiSecretKeySecretName": secrets.api_secret_key,
        "jwtSecretName": secrets.jwt_secret,
        "data": {"metadataSecretName": secrets.metadata},
        "postgresql": {"enabled": False},
        "redis": {"enabled": celery},
        "pgbouncer": {
            "enabled": True,
            "replicas": pgbouncer.replicas,
            "resources": pgbouncer.resources.requirements(),
            "configSecretName": secrets.pgbouncer_config,
            # Its configuration (with the password) is mounted with subPath: a changed secret needs a restart.
            "annotations": dict(RELOAD_ON_CHANGE),
            "metricsExporterSidecar": {"statsSecretName": secrets.pgbouncer_stats},
            "podDisruptionBudget": {"enabled": True, "config": {"maxUnavailable": 1}},
            "topologySpreadConstraints": _spread("pgbouncer", props.zone_spread),
            **log_collection(props, "pgbouncer"),
        },
        # Migrations as a plain Job: Terraform waits for the release (and its jobs), so Helm hooks
        # would never run and the release would report success before the schema was migrated.
        "migrateDatabaseJob": {"enabled": True, "useHelmHooks": False, "applyCustomEnv": False, "ttlSecondsAfterFinished": 60},
        "createUserJob": admin_user_job(props),
        "databaseCleanup": cleanup_values(props),
        "scheduler": component_values(props, "scheduler"),
        "apiServer": component_values(props, "api_server"),
        "triggerer": component_values(props, "triggerer"),
        "dagProcessor": component_values(props, "dag_processor"),
        # Task pods (KubernetesExecutor pod template) and Celery workers run on the workers pool.
        "workers": {
            "replicas": props.celery_workers,
            "resources": props.task_resources.requirements(),
            "nodeSelector": WORKERS_POOL.node_selector(),
            "tolerations": WORKERS_POOL.tolerations(),
            "serviceAccount": _service_account(props.identities["worker"]),
            "persistence": {"enabled": False},
            "logGroomerSidecar": {"enabled": False},
            # Celery workers follow the queue: KEDA counts queued and running tasks in the metadata
            # database (through PgBouncer), between the floor and celery_workers.
            "celery": {
                "keda": {
                    "enabled": celery,
                    "minReplicaCount": props.celery_min_workers,
                    "maxReplicaCount": props.celery_workers,
                    "pollingInterval": 15,
                    "cooldownPeriod": 300,
                    "usePgbouncer": True,
                }
            },
        },
        # Every other Airflow pod runs on the system nodes, and tolerates their taint.
        "nodeSelector": SYSTEM_POOL.node_selector(),
        "tolerations": SYSTEM_POOL.tolerations(),
        # The chart's StatsD exporter only when no agent collects the metrics.
        "statsd": {"enabled": props.metrics is None},
        "rbac": {"create": True},
        "multiNamespaceMode": False,
        "allowPodLaunching": True,
        # The chart's job-launcher Role in Airflow's namespace (KubernetesJobOperator).
        "allowJobLaunching": True,
        # Flightdeck writes its own policies (default deny plus named allows) for every Airflow namespace.
        "networkPolicies": {"enabled": False},
        "dags": {"persistence": {"enabled": False}, "gitSync": {"enabled": False}},
        "logs": {"persistence": {"enabled": False}},
        "config": airflow_config(props),
        # KubernetesExecutor task pods: no metadata connection, no Fernet key (see task_pod_template).
        "podTemplate": task_pod_template(props),
        "env": env,
        "secret": secret_env,
        "ingress": ingress_values(props),
        # Restricted-profile settings wherever the chart lets us set them.
        "securityContexts": {
            "pod": {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}},
            "containers": {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}},
        },
    }
    return values

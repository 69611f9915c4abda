"""Monitors as Datadog API objects, built by pure functions and deployed as typed ``datadog_monitor``.

Thresholds, priority and who is notified come from the environment file (``datadog.monitors``);
every monitor carries the env, service and team tags and links to the dashboard to look at.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..handles import DatabaseMetrics
from .mapper import INSTANCE_TAG
from .scope import MonitoringScope

AIRFLOW_NAME = f"{{{{{INSTANCE_TAG}.name}}}}"
"""The multi-alert group's Airflow in a message (``{{airflow_instance.name}}``: ``shared``, or the team of a team's own)."""

GIB = 1024**3


def number(value: float) -> str:
    """A threshold as Datadog shows it: ``5``, ``0.5``, ``10737418240`` (never ``1e+10``)."""
    return str(int(value)) if float(value).is_integer() else repr(float(value))


@dataclass(frozen=True, kw_only=True)
class Threshold:
    critical: float
    warning: float | None = None

    def api(self, scale: float = 1) -> dict[str, float]:
        values = {"critical": self.critical * scale}
        if self.warning is not None:
            values["warning"] = self.warning * scale
        return values


@dataclass(frozen=True, kw_only=True)
class MonitorSettings:
    notify: Sequence[str]
    priority: int
    renotify_minutes: int | None
    scheduler_heartbeat_minutes: int
    task_failure_percent: Threshold
    import_errors: Threshold
    queued_tasks: Threshold
    pending_pod_minutes: int
    database_cpu_percent: Threshold
    database_free_storage_gib: Threshold
    database_connections: Threshold
    provisioning_failures: Threshold


def _message(summary: str, action: str, dashboard_url: str, settings: MonitorSettings) -> str:
    return "\n".join(
        [
            "{{#is_alert}}" + summary + "{{/is_alert}}",
            "{{#is_warning}}Early warning: " + summary + "{{/is_warning}}",
            "{{#is_recovery}}Recovered: " + summary + "{{/is_recovery}}",
            "",
            action,
            f"Dashboard: {dashboard_url}",
            "",
            " ".join(settings.notify),
        ]
    )


def _monitor(
    scope: MonitoringScope,
    settings: MonitorSettings,
    *,
    title: str,
    query: str,
    thresholds: Mapping[str, float],
    message: str,
    **options: Any,
) -> dict[str, Any]:
    api_options: dict[str, Any] = {
        "thresholds": dict(thresholds),
        "include_tags": True,
        "require_full_window": False,
        **options,
    }
    if settings.renotify_minutes is not None:
        api_options["renotify_interval"] = settings.renotify_minutes
    return {
        "name": f"[{scope.env}] Airflow: {title}",
        "type": "query alert",
        "query": query,
        "message": message,
        "tags": scope.tags,
        "priority": settings.priority,
        "options": api_options,
    }


def airflow_monitors(
    scope: MonitoringScope, settings: MonitorSettings, dashboards: Mapping[str, str]
) -> dict[str, dict[str, Any]]:
    """Every monitor of an environment by construct id; ``dashboards`` maps dashboard keys to URLs."""
    env = f"env:{scope.env}"
    db = scope.database
    heartbeat = settings.scheduler_heartbeat_minutes
    pending = settings.pending_pod_minutes
    namespaces = " OR ".join(f"kube_namespace:{ns}" for ns in scope.namespaces)
    overview, kubernetes = dashboards["airflow"], dashboards["kubernetes"]
    monitors = {
        "scheduler-heartbeat": _monitor(
            scope,
            settings,
            title="scheduler heartbeat missing",
            query=f"sum(last_{heartbeat}m):sum:airflow.scheduler_heartbeat{{{env}}} by {{{INSTANCE_TAG}}}.as_count() < 1",
            thresholds={"critical": 1},
            notify_no_data=True,
            no_data_timeframe=2 * heartbeat,
            message=_message(
                f"No scheduler heartbeat from the {AIRFLOW_NAME} Airflow in {scope.env} for {heartbeat} minutes: "
                "none of its tasks is being scheduled.",
                "Check its scheduler pods (kubectl -n airflow get pods -l component=scheduler; a team's own Airflow: "
                "-n airflow-<team>) and their logs.",
                overview,
                settings,
            ),
        ),
        "task-failures": _monitor(
            scope,
            settings,
            title="task failure rate high",
            query=(
                f"sum(last_1h):100 * sum:airflow.ti_failures{{{env}}} by {{{INSTANCE_TAG}}}.as_count() / "
                f"(sum:airflow.ti_failures{{{env}}} by {{{INSTANCE_TAG}}}.as_count() + "
                f"sum:airflow.ti_successes{{{env}}} by {{{INSTANCE_TAG}}}.as_count()) "
                f">= {number(settings.task_failure_percent.critical)}"
            ),
            thresholds=settings.task_failure_percent.api(),
            message=_message(
                f"More than {number(settings.task_failure_percent.critical)}% of the {AIRFLOW_NAME} Airflow's task instances "
                f"in {scope.env} failed in the last hour.",
                "Look for a common cause (a failing DAG, a dependency, the cluster) before retrying.",
                overview,
                settings,
            ),
        ),
        "import-errors": _monitor(
            scope,
            settings,
            title="DAG import errors",
            query=(
                f"max(last_10m):max:airflow.dag_processing.import_errors{{{env}}} by {{{INSTANCE_TAG}}} "
                f">= {number(settings.import_errors.critical)}"
            ),
            thresholds=settings.import_errors.api(),
            message=_message(
                f"DAG files of the {AIRFLOW_NAME} Airflow in {scope.env} fail to import; their DAGs are not scheduled.",
                "The Airflow UI lists the files and their tracebacks (Browse > DAG import errors).",
                overview,
                settings,
            ),
        ),
        "queued-tasks": _monitor(
            scope,
            settings,
            title="queued tasks backing up",
            query=f"avg(last_15m):sum:airflow.executor.queued_tasks{{{env}}} by {{{INSTANCE_TAG}}} >= {number(settings.queued_tasks.critical)}",
            thresholds=settings.queued_tasks.api(),
            message=_message(
                f"Tasks of the {AIRFLOW_NAME} Airflow in {scope.env} have been waiting in the executor queue for 15 minutes.",
                "Check executor open slots, pool slots and whether task pods can be scheduled (node group at max size?).",
                overview,
                settings,
            ),
        ),
        "pending-pods": _monitor(
            scope,
            settings,
            title="task pods pending too long",
            query=(
                f"min(last_{pending}m):sum:kubernetes_state.pod.status_phase{{{env} AND pod_phase:pending AND ({namespaces})}} "
                "by {kube_namespace} >= 1"
            ),
            thresholds={"critical": 1},
            message=_message(
                f"Pods in {{{{kube_namespace.name}}}} ({scope.env}) have been Pending for {pending} minutes.",
                "kubectl describe pod shows why: no node fits, quota exhausted, or the image cannot be pulled.",
                kubernetes,
                settings,
            ),
        ),
    }
    if scope.provisioning_failures is not None:
        failures = settings.provisioning_failures
        monitors["node-provisioning"] = _monitor(
            scope,
            settings,
            title="nodes failing to launch",
            query=(
                f"sum(last_30m):{scope.provisioning_failures.format(agg='sum', filter='{' + env + ' AND method:create}')}.as_count() "
                f">= {number(failures.critical)}"
            ),
            thresholds=failures.api(),
            message=_message(
                f"The node provisioner of {scope.env} failed to launch {number(failures.critical)} or more nodes in 30 minutes: "
                "task pods wait for nodes that do not come.",
                "Karpenter's controller log says why (kubectl -n kube-system logs -l app.kubernetes.io/name=karpenter): "
                "no capacity for the allowed instance types, a vCPU quota, or an IAM or launch-template error.",
                kubernetes,
                settings,
            ),
        )
    if db is not None:
        monitors.update(database_monitors(scope, settings, db, dashboards["database"]))
    return monitors


def database_monitors(scope: MonitoringScope, settings: MonitorSettings, db: DatabaseMetrics, database: str) -> dict[str, dict[str, Any]]:
    """The metadata database's monitors (where a cloud integration reports its metrics); ``database`` is its dashboard's URL."""
    return {
        "database-cpu": _monitor(
            scope,
            settings,
            title="metadata database CPU high",
            query=f"avg(last_15m):{db.query(db.cpu_percent, 'avg', '{' + db.scope + '}')} >= {number(settings.database_cpu_percent.critical)}",
            thresholds=settings.database_cpu_percent.api(),
            message=_message(
                f"The metadata database of {scope.env} has used more than {number(settings.database_cpu_percent.critical)}% CPU for 15 minutes.",
                "Scheduling slows down with it; look for heavy DAG parsing or a larger instance (the database section of the environment file).",
                database,
                settings,
            ),
        ),
        "database-storage": _monitor(
            scope,
            settings,
            title="metadata database storage low",
            query=(
                f"min(last_15m):{db.query(db.free_storage_bytes, 'min', '{' + db.scope + '}')} "
                f"<= {number(settings.database_free_storage_gib.critical * GIB)}"
            ),
            thresholds=settings.database_free_storage_gib.api(scale=GIB),
            message=_message(
                f"Less than {number(settings.database_free_storage_gib.critical)} GiB free on the metadata database of {scope.env}.",
                "Storage grows automatically up to the limit in the database section of the environment file; "
                "raise it or clean old task history (airflow db clean).",
                database,
                settings,
            ),
        ),
        "database-connections": _monitor(
            scope,
            settings,
            title="metadata database connections high",
            query=(
                f"avg(last_15m):{db.query(db.connections, 'avg', '{' + db.scope + '}')} "
                f">= {number(settings.database_connections.critical)}"
            ),
            thresholds=settings.database_connections.api(),
            message=_message(
                f"More than {number(settings.database_connections.critical)} connections to the metadata database of {scope.env} for 15 minutes.",
                "Every Airflow reaches it through PgBouncer (pool_size 10 per replica): look for a component connecting around it, "
                "a leak after a failover, or more Airflows than the instance size allows (max_connections grows with its memory).",
                database,
                settings,
            ),
        ),
    }

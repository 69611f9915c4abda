"""Dashboards as Datadog API JSON (``datadog_dashboard_json``), built by pure functions.

Each is checked in the tests against the Datadog API models (datadog-api-client) and its
``airflow.*`` metric names against the Airflow integration's metric list. Every widget filters
on the ``env`` and ``team`` template variables, which default to this environment and all teams.
"""

from __future__ import annotations

from typing import Any

from .scope import MonitoringScope

AIRFLOW = "{$env,$team}"


def _template_variables(scope: MonitoringScope) -> list[dict[str, Any]]:
    return [
        {"name": "env", "prefix": "env", "available_values": [], "default": scope.env},
        {"name": "team", "prefix": "team", "available_values": [], "default": "*"},
    ]


def timeseries(title: str, *queries: str, display: str = "line") -> dict[str, Any]:
    return {
        "definition": {
            "type": "timeseries",
            "title": title,
            "show_legend": True,
            "requests": [{"q": query, "display_type": display} for query in queries],
        }
    }


def query_value(title: str, query: str, aggregator: str = "last", precision: int = 0) -> dict[str, Any]:
    return {
        "definition": {
            "type": "query_value",
            "title": title,
            "precision": precision,
            "requests": [{"q": query, "aggregator": aggregator}],
        }
    }


def group(title: str, *widgets: dict[str, Any]) -> dict[str, Any]:
    return {"definition": {"type": "group", "title": title, "layout_type": "ordered", "widgets": list(widgets)}}


def _dashboard(scope: MonitoringScope, title: str, description: str, widgets: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "title": f"Airflow {scope.env}: {title}",
        "description": f"{description} Managed by Flightdeck: edits in the UI are overwritten on the next deploy.",
        "layout_type": "ordered",
        "reflow_type": "auto",
        "template_variables": _template_variables(scope),
        "widgets": widgets,
    }


def airflow_overview(scope: MonitoringScope) -> dict[str, Any]:
    f = AIRFLOW
    return _dashboard(
        scope,
        "overview",
        "Scheduler, DAG processing, tasks, executor and pools.",
        [
            group(
                "Scheduler",
                query_value("Scheduler heartbeats (5 min)", f"sum:airflow.scheduler_heartbeat{f}.as_count()", "sum"),
                timeseries("Scheduler heartbeats", f"sum:airflow.scheduler_heartbeat{f}.as_count()", display="bars"),
                timeseries("Scheduler critical section (ms)", f"avg:airflow.scheduler.critical_section_duration.avg{f}"),
            ),
            group(
                "DAG processing",
                query_value("DAG import errors", f"max:airflow.dag_processing.import_errors{f}", "last"),
                timeseries("Total parse time (s)", f"avg:airflow.dag_processing.total_parse_time{f}"),
                timeseries("Import errors", f"max:airflow.dag_processing.import_errors{f}"),
                timeseries("DAGs loaded", f"max:airflow.dagbag_size{f}"),
            ),
            group(
                "Tasks",
                timeseries("Running and queued tasks", f"sum:airflow.executor.running_tasks{f}", f"sum:airflow.executor.queued_tasks{f}"),
                timeseries(
                    "Task successes and failures",
                    f"sum:airflow.ti_successes{f}.as_count()",
                    f"sum:airflow.ti_failures{f}.as_count()",
                    display="bars",
                ),
                timeseries("Executor open slots", f"min:airflow.executor.open_slots{f}"),
                timeseries(
                    "DAG run duration (ms)",
                    f"avg:airflow.dagrun.duration.success.avg{f} by {{dag_id}}",
                    f"avg:airflow.dagrun.duration.failed.avg{f} by {{dag_id}}",
                ),
            ),
            group(
                "Pools",
                timeseries("Pool slots in use", f"max:airflow.pool.running_slots{f} by {{pool_name}}"),
                timeseries("Pool open slots", f"min:airflow.pool.open_slots{f} by {{pool_name}}"),
                timeseries("Tasks starving for a pool slot", f"max:airflow.pool.starving_tasks{f} by {{pool_name}}"),
            ),
        ],
    )


def kubernetes_footprint(scope: MonitoringScope) -> dict[str, Any]:
    def per_namespace(query: str) -> list[str]:
        return [query.format(filter=f"{{$env,$team,kube_namespace:{ns}}}") for ns in scope.namespaces]

    return _dashboard(
        scope,
        "Kubernetes footprint",
        f"Pods of the Airflow namespaces ({', '.join(scope.namespaces)}): phases, restarts, CPU and memory against requests.",
        [
            group(
                "Pods",
                timeseries(
                    "Pods by phase",
                    *per_namespace("sum:kubernetes_state.pod.status_phase{filter} by {{kube_namespace,pod_phase}}"),
                    display="bars",
                ),
                timeseries("Container restarts", *per_namespace("sum:kubernetes.containers.restarts{filter} by {{kube_namespace,kube_deployment}}")),
            ),
            group(
                "CPU",
                timeseries("CPU used (cores)", *per_namespace("sum:kubernetes.cpu.usage.total{filter} by {{kube_namespace}} / 1000000000")),
                timeseries("CPU requested (cores)", *per_namespace("sum:kubernetes.cpu.requests{filter} by {{kube_namespace}}")),
            ),
            group(
                "Memory",
                timeseries("Memory used", *per_namespace("sum:kubernetes.memory.usage{filter} by {{kube_namespace}}")),
                timeseries("Memory requested", *per_namespace("sum:kubernetes.memory.requests{filter} by {{kube_namespace}}")),
            ),
        ],
    )


def metadata_database(scope: MonitoringScope) -> dict[str, Any]:
    db = scope.database
    if db is None:
        raise ValueError("the metadata database dashboard needs the database's metrics")
    f = f"{{$env,{db.scope}}}"
    return _dashboard(
        scope,
        "metadata database",
        "Airflow's metadata database: connections, CPU and free storage (from the cloud integration).",
        [
            group(
                "Metadata database",
                timeseries("Connections", db.query(db.connections, "avg", f)),
                timeseries("CPU (%)", db.query(db.cpu_percent, "avg", f)),
                timeseries("Free storage (bytes)", db.query(db.free_storage_bytes, "min", f)),
            )
        ],
    )


DASHBOARDS = {"airflow": airflow_overview, "kubernetes": kubernetes_footprint, "database": metadata_database}
"""Every dashboard of an environment, by the key its URL is listed under in the stack outputs."""

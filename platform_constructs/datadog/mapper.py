"""DogStatsD mapper profile for Airflow: raw StatsD names → the metric names of Datadog's Airflow integration.

Airflow's StatsD names embed DAG, task, pool and job names (``airflow.pool.open_slots.default_pool``).
The agent rewrites them into one metric with tags (``airflow.pool.open_slots{pool_name:default_pool}``),
the names the integration documents (see tests/data/datadog-airflow). The rules follow the mapping
in the integration's documentation.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any


def _wildcard(match: str, name: str, **tags: str) -> dict[str, Any]:
    rule: dict[str, Any] = {"match": match, "name": name}
    if tags:
        rule["tags"] = tags
    return rule


def _regex(match: str, name: str, **tags: str) -> dict[str, Any]:
    return {**_wildcard(match, name, **tags), "match_type": "regex"}


def _per(metric: str, tag: str) -> dict[str, Any]:
    """``airflow.<metric>.<value>`` → ``airflow.<metric>{<tag>:<value>}``."""
    escaped = metric.replace(".", r"\.")
    return _regex(rf"airflow\.{escaped}\.(.*)", f"airflow.{metric}", **{tag: "$1"})


AIRFLOW_MAPPINGS: tuple[dict[str, Any], ...] = (
    _wildcard("airflow.*_start", "airflow.job.start", job_name="$1"),
    _wildcard("airflow.*_end", "airflow.job.end", job_name="$1"),
    _wildcard("airflow.*_heartbeat_failure", "airflow.job.heartbeat.failure", job_name="$1"),
    _wildcard("airflow.operator_failures_*", "airflow.operator_failures", operator_name="$1"),
    _wildcard("airflow.operator_successes_*", "airflow.operator_successes", operator_name="$1"),
    _per("dag_processing.last_runtime", "dag_file"),
    _per("dag_processing.last_run.seconds_ago", "dag_file"),
    _per("dag_processing.last_duration", "dag_file"),
    _regex(r"airflow\.dag\.loading-duration\.(.*)", "airflow.dag.loading_duration", dag_file="$1"),
    _wildcard("airflow.dagrun.*.first_task_scheduling_delay", "airflow.dagrun.first_task_scheduling_delay", dag_id="$1"),
    *(_wildcard(f"airflow.pool.{slots}.*", f"airflow.pool.{slots}", pool_name="$1") for slots in (
        "open_slots", "queued_slots", "running_slots", "used_slots", "starving_tasks",
    )),
    _regex(r"airflow\.dagrun\.dependency-check\.(.*)", "airflow.dagrun.dependency_check", dag_id="$1"),
    _regex(r"airflow\.dag\.(.*)\.([^.]*)\.duration", "airflow.dag.task.duration", dag_id="$1", task_id="$2"),
    _per("dagrun.duration.success", "dag_id"),
    _per("dagrun.duration.failed", "dag_id"),
    _per("dagrun.schedule_delay", "dag_id"),
    _wildcard("airflow.scheduler.tasks.running", "airflow.scheduler.tasks.running"),
    _wildcard("airflow.scheduler.tasks.starving", "airflow.scheduler.tasks.starving"),
    _regex(r"airflow\.task_removed_from_dag\.(.*)", "airflow.dag.task_removed", dag_id="$1"),
    _regex(r"airflow\.task_restored_to_dag\.(.*)", "airflow.dag.task_restored", dag_id="$1"),
    _wildcard("airflow.task_instance_created-*", "airflow.task.instance_created", task_class="$1"),
    _regex(r"airflow\.ti\.start\.(.+)\.(\w+)", "airflow.ti.start", dag_id="$1", task_id="$2"),
    _regex(r"airflow\.ti\.finish\.(\w+)\.(.+)\.(\w+)", "airflow.ti.finish", dag_id="$1", task_id="$2", state="$3"),
)


INSTANCE_TAG = "airflow_instance"
"""The tag that tells one Airflow's metrics from another's (``shared``, or the team of a team's own); monitors group by it."""


def tagged_mappings(prefix: str, tags: Mapping[str, str]) -> list[dict[str, Any]]:
    """The rules for the Airflow whose StatsD prefix is ``prefix``: the integration's metric names,
    with ``tags`` (``airflow_instance:analytics``) on every one, and a last rule that renames (or keeps)
    whatever no rule matched, so every metric of that Airflow is tagged and none keeps another prefix (pure)."""
    rules = []
    for rule in AIRFLOW_MAPPINGS:
        match = rule["match"]
        if rule.get("match_type") == "regex":
            match = match.replace("airflow\\.", f"{prefix}\\.", 1)
        else:
            match = match.replace("airflow.", f"{prefix}.", 1)
        rules.append({**rule, "match": match, "tags": {**rule.get("tags", {}), **tags}})
    rules.append(_regex(rf"{prefix}\.(.*)", "airflow.$1", **tags))
    return rules


SHARED_PROFILE = {"airflow": {INSTANCE_TAG: "shared"}}
"""The shared Airflow's StatsD prefix and tags."""


def mapper_profiles(instances: Mapping[str, Mapping[str, str]] = SHARED_PROFILE) -> str:
    """The agent's ``DD_DOGSTATSD_MAPPER_PROFILES`` (JSON): one profile per Airflow, by its StatsD prefix,
    with the tags its metrics carry."""
    profiles = [{"name": prefix, "prefix": f"{prefix}.", "mappings": tagged_mappings(prefix, tags)} for prefix, tags in instances.items()]
    return json.dumps(profiles, separators=(",", ":"))


def mapped_names() -> set[str]:
    """Every metric name the profile can produce."""
    return {rule["name"] for rule in AIRFLOW_MAPPINGS}

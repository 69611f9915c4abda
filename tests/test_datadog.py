"""Datadog: provider without keys, the agent and its API key, dashboards and monitors.

Dashboards and monitors are checked against the Datadog API models (datadog-api-client), so a
malformed widget fails here instead of at deploy time, and every ``airflow.*`` metric they query
must be one Datadog's Airflow integration collects (tests/data/datadog-airflow/metadata.csv).
"""

from __future__ import annotations

import csv
import json
import re
from functools import cache
from typing import Any, cast

import jsonschema
import pytest
from datadog_api_client import Configuration
from datadog_api_client.model_utils import (
    OpenApiModel,
    UnparsedObject,
    validate_and_convert_types,
)
from datadog_api_client.v1.model.dashboard import Dashboard
from datadog_api_client.v1.model.monitor import Monitor

from platform_constructs.datadog.mapper import mapped_names, mapper_profiles

from .conftest import DATA, fixture_configs, network_policies, parse_yaml, releases, resources, values_of

ENVS = ("dev", "qa", "prod")
TIMER_SUFFIXES = (".avg", ".max", ".median", ".count", ".95percentile")
METRIC = re.compile(r"\b(airflow(?:\.[a-z0-9_]+)+)")


@cache
def integration_metrics() -> dict[str, str]:
    """metric name → unit, from the integration's metadata.csv."""
    with (DATA / "datadog-airflow" / "metadata.csv").open() as rows:
        return {row["metric_name"]: row["unit_name"] for row in csv.DictReader(rows)}


def unknown_airflow_metrics(text: str) -> set[str]:
    """``airflow.*`` names in queries that the integration does not collect.

    Timers (millisecond gauges in the list) may be queried through DogStatsD's aggregates.
    """
    known = integration_metrics()
    unknown = set()
    for name in METRIC.findall(text):
        if name in known:
            continue
        base = next((name[: -len(s)] for s in TIMER_SUFFIXES if name.endswith(s)), None)
        if base is None or known.get(base) != "millisecond":
            unknown.add(name)
    return unknown


def api_model(data: dict[str, Any], model: type[OpenApiModel]) -> OpenApiModel:
    """Deserialize like the API client does; an object no schema accepts is an error, not 'unparsed'."""
    parsed = validate_and_convert_types(data, (model,), ["body"], True, True, Configuration())
    if parsed._unparsed:
        raise ValueError(f"not a valid {model.__name__}: {_unparsed_paths(parsed)}")
    return parsed


def _unparsed_paths(node: Any, path: str = "body") -> list[str]:
    """Where in a deserialized object the client gave up (an ``UnparsedObject``)."""
    if isinstance(node, UnparsedObject):
        return [path]
    if isinstance(node, list):
        return [p for i, item in enumerate(node) for p in _unparsed_paths(item, f"{path}[{i}]")]
    if not isinstance(node, OpenApiModel):
        return []
    found = [p for key, value in node._data_store.items() for p in _unparsed_paths(value, f"{path}.{key}")]
    for instance in getattr(node, "_composed_instances", []):
        found += _unparsed_paths(instance, path)
    return found or ([path] if node._unparsed else [])


def dashboards(stack: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {construct_id(d): json.loads(d["dashboard"]) for d in resources(stack, "datadog_dashboard_json").values()}


def monitors(stack: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {construct_id(m): m for m in resources(stack, "datadog_monitor").values()}


def construct_id(resource: dict[str, Any]) -> str:
    return resource["//"]["metadata"]["path"].rsplit("/", 1)[1]


def as_api_monitor(resource: dict[str, Any]) -> dict[str, Any]:
    """The API object the provider sends for a ``datadog_monitor`` resource."""
    options: dict[str, Any] = {
        "thresholds": {level: float(value) for level, value in resource["monitor_thresholds"].items()},
        "include_tags": resource["include_tags"],
        "require_full_window": resource["require_full_window"],
    }
    for field in ("notify_no_data", "no_data_timeframe", "renotify_interval"):
        if field in resource:
            options[field] = resource[field]
    return {
        "name": resource["name"],
        "type": resource["type"],
        "query": resource["query"],
        "message": resource["message"],
        "tags": resource["tags"],
        "priority": int(resource["priority"]),
        "options": options,
    }


def widget_queries(widgets: list[dict[str, Any]]) -> list[str]:
    queries = []
    for widget in widgets:
        definition = widget["definition"]
        queries += [request["q"] for request in definition.get("requests", [])]
        queries += widget_queries(definition.get("widgets", []))
    return queries


# The checkers themselves


def test_metric_check_catches_a_metric_the_integration_does_not_collect() -> None:
    assert unknown_airflow_metrics("avg:airflow.executor.open_slots{*}") == set()
    assert unknown_airflow_metrics("avg:airflow.dagrun.duration.success.avg{*}") == set()
    assert unknown_airflow_metrics("sum:airflow.scheduler.heartbeat{*}") == {"airflow.scheduler.heartbeat"}
    # Only timers have aggregates: a gauge with .avg is a typo.
    assert unknown_airflow_metrics("avg:airflow.executor.open_slots.avg{*}") == {"airflow.executor.open_slots.avg"}


def test_api_model_check_rejects_a_malformed_widget() -> None:
    good = {"title": "t", "layout_type": "ordered", "widgets": [{"definition": {"type": "note", "content": "hi"}}]}
    api_model(good, Dashboard)
    bad_display = {"type": "timeseries", "requests": [{"q": "avg:x{*}", "display_type": "wiggle"}]}
    misspelled = {"type": "query_value", "request": [{"q": "avg:x{*}"}]}
    for definition in (bad_display, misspelled):
        with pytest.raises(ValueError, match="not a valid Dashboard"):
            api_model({**good, "widgets": [{"definition": definition}]}, Dashboard)
    with pytest.raises(ValueError, match=r"body\.layout_type"):
        api_model({"title": "t", "layout_type": "sideways", "widgets": []}, Dashboard)


# Provider and keys


@pytest.mark.parametrize("env", ENVS)
def test_provider_takes_keys_from_variables_or_environment(stacks: dict[str, Any], env: str) -> None:
    stack = stacks[env]
    (provider,) = stack["provider"]["datadog"]
    assert provider["api_url"] == "https://api.datadoghq.eu/"
    assert provider["api_key"] == '${var.datadog_api_key == "" ? null : var.datadog_api_key}'
    assert provider["app_key"] == '${var.datadog_app_key == "" ? null : var.datadog_app_key}'
    for name in ("datadog_api_key", "datadog_app_key"):
        assert stack["variable"][name] == {
            "default": "",
            "description": stack["variable"][name]["description"],
            "sensitive": True,
            "type": "string",
        }


# Agent


@cache
def chart_defaults() -> dict[str, Any]:
    return cast(dict[str, Any], parse_yaml((DATA / "datadog-chart" / "values.yaml").read_text()))


def missing_chart_keys(values: Any, defaults: Any, path: str = "") -> list[str]:
    """Key paths set in ``values`` that the chart does not have (Helm would ignore them silently)."""
    if not isinstance(values, dict):
        return []
    if not isinstance(defaults, dict):
        return [path] if defaults is None and path else []
    missing = []
    for key, value in values.items():
        if key not in defaults:
            missing.append(f"{path}.{key}".lstrip("."))
        elif defaults[key] not in (None, {}):
            missing += missing_chart_keys(value, defaults[key], f"{path}.{key}")
    return missing


def test_chart_key_check_finds_a_misspelled_key() -> None:
    assert missing_chart_keys({"datadog": {"siet": "x", "dogstatsd": {"port": 1}}}, chart_defaults()) == ["datadog.siet"]


@pytest.mark.parametrize("env", ENVS)
def test_agent_values_are_valid_for_the_pinned_chart(stacks: dict[str, Any], env: str) -> None:
    release = releases(stacks[env])["datadog"]
    assert (release["chart"], release["repository"], release["version"]) == ("datadog", "https://helm.datadoghq.com", "3.240.0")
    assert release["namespace"] == "datadog"
    values = values_of(stacks[env], "datadog")
    schema = json.loads((DATA / "datadog-chart" / "values.schema.json").read_text())
    assert [e.message for e in jsonschema.Draft7Validator(schema).iter_errors(values)] == []
    assert missing_chart_keys(values, chart_defaults()) == []


@pytest.mark.parametrize("env", ENVS)
def test_agent_collects_cluster_and_statsd_metrics_with_the_environment_tags(stacks: dict[str, Any], env: str) -> None:
    config = fixture_configs()[env]
    values = values_of(stacks[env], "datadog")
    datadog = values["datadog"]
    assert datadog["site"] == config.datadog.site
    assert datadog["clusterName"].startswith("${aws_eks_cluster.")
    assert datadog["kubeStateMetricsCore"] == {"enabled": True}
    expected_tags = {f"env:{env}", f"team:{config.owner}", f"cost-center:{config.cost_center}", "service:airflow"}
    assert expected_tags <= set(datadog["tags"])
    assert expected_tags <= set(datadog["dogstatsd"]["tags"])
    assert values["clusterAgent"]["enabled"] is True
    assert values["clusterAgent"]["replicas"] == config.datadog.cluster_agent_replicas
    assert values["clusterAgent"]["createPodDisruptionBudget"] is (config.datadog.cluster_agent_replicas > 1)
    # Every node, tainted pools included, runs an agent; Airflow reaches it on a node-local Service.
    assert {"operator": "Exists", "effect": "NoSchedule"} in values["agents"]["tolerations"]
    assert values["agents"]["localService"] == {"forceLocalServiceEnabled": True}


def test_the_api_key_is_synced_by_the_secret_operator_not_passed_by_terraform(stacks: dict[str, Any]) -> None:
    for env in ENVS:
        values = values_of(stacks[env], "datadog")
        assert values["datadog"]["apiKeyExistingSecret"] == "datadog-api-key"
        assert "apiKey" not in values["datadog"] and "appKey" not in values["datadog"]
        synced = values_of(stacks[env], "datadog-secrets")
        (secret,) = synced["externalSecrets"]
        assert secret == {
            "name": "datadog-api-key",
            "refreshInterval": "1h",
            "remoteKey": fixture_configs()[env].datadog.api_key_secret,
            "template": {"api-key": "{{ .api_key }}"},
        }
        assert synced["secretStore"]["provider"] == {"aws": {"service": "SecretsManager", "region": "eu-west-1"}}
        depends = releases(stacks[env])["datadog-secrets"]["depends_on"]
        assert any("external-secrets" in d for d in depends), "the operator's CRDs must exist first"


def test_mapper_profile_yields_only_integration_metric_names(stacks: dict[str, Any]) -> None:
    env_vars = {e["name"]: e["value"] for e in values_of(stacks["prod"], "datadog")["datadog"]["env"]}
    # The shared Airflow's profile first; a team's own Airflow's follow (tests/test_dedicated_airflow.py).
    profile, *_ = json.loads(env_vars["DD_DOGSTATSD_MAPPER_PROFILES"])
    assert profile["name"] == "airflow" and profile["prefix"] == "airflow."
    *rules, keep = profile["mappings"]
    names = {rule["name"] for rule in rules}
    assert names == mapped_names()
    assert names - set(integration_metrics()) == set()
    # The last rule keeps every other metric's name and tags it with its Airflow, as every rule does.
    assert (keep["match"], keep["name"]) == (r"airflow\.(.*)", "airflow.$1")
    assert all(rule["tags"]["airflow_instance"] == "shared" for rule in profile["mappings"])
    for rule in profile["mappings"]:
        if rule.get("match_type") == "regex":
            re.compile(rule["match"])
    assert json.loads(env_vars["DD_DOGSTATSD_MAPPER_PROFILES"])[0] == json.loads(mapper_profiles())[0]


def test_mapper_turns_dotted_statsd_names_into_tagged_metrics() -> None:
    (profile,) = json.loads(mapper_profiles())
    rules = {rule["name"]: rule for rule in profile["mappings"]}
    finish = rules["airflow.ti.finish"]
    match = re.fullmatch(finish["match"], "airflow.ti.finish.etl_daily.load_orders.failed")
    assert match is not None
    assert match.groups() == ("etl_daily", "load_orders", "failed")
    duration = re.fullmatch(rules["airflow.dagrun.duration.success"]["match"], "airflow.dagrun.duration.success.etl_daily")
    assert duration is not None and duration.group(1) == "etl_daily"


def test_agent_namespace_is_privileged_closed_and_open_only_to_airflow_statsd(stacks: dict[str, Any]) -> None:
    stack = stacks["prod"]
    (namespace,) = [n for n in resources(stack, "kubernetes_namespace_v1").values() if n["metadata"]["name"] == "datadog"]
    # The node agent reads host paths and the host's process table.
    assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "privileged"
    found = network_policies(stack, "datadog")
    assert found["default-deny"]["policy_types"] == ["Ingress", "Egress"]
    ingress = found["allow-ingress-dogstatsd"]
    assert ingress["pod_selector"]["match_labels"] == {"app": "datadog"}
    (rule,) = ingress["ingress"]
    assert rule["ports"] == [{"port": "8125", "protocol": "UDP"}]
    airflows = ["airflow", *(t.airflow_namespace for t in fixture_configs()["prod"].dedicated_teams)]
    assert [peer["namespace_selector"]["match_labels"] for peer in rule["from"]] == [
        {"kubernetes.io/metadata.name": namespace} for namespace in airflows
    ]
    sources = [peer for spec in found.values() for rule in spec.get("ingress") or [] for peer in rule["from"]]
    assert all("ip_block" not in peer for peer in sources), "nothing outside the cluster may reach the agents"


def test_agent_quota_fits_an_agent_on_every_node_the_cluster_can_have(stacks: dict[str, Any]) -> None:
    for env in ENVS:
        cluster = fixture_configs()[env].cluster
        (quota,) = [q for q in resources(stacks[env], "kubernetes_resource_quota_v1").values() if q["metadata"]["namespace"] == "datadog"]
        # Karpenter's nodes have at least 2 vCPUs: a pool's CPU limit bounds its node count.
        pools = [cluster.node_pools.workers, cluster.node_pools.backfill]
        pools += [t.dedicated_nodes for t in fixture_configs()[env].teams if t.dedicated_nodes]
        max_nodes = cluster.node_groups.system.max_size + sum(p.cpu_limit // 2 for p in pools)
        assert int(quota["spec"]["hard"]["pods"]) >= max_nodes + fixture_configs()[env].datadog.cluster_agent_replicas
        assert int(quota["spec"]["hard"]["requests.cpu"].rstrip("m")) >= max_nodes * 300


# Dashboards


@pytest.mark.parametrize("env", ENVS)
def test_dashboards_are_valid_api_objects_using_real_airflow_metrics(stacks: dict[str, Any], env: str) -> None:
    found = dashboards(stacks[env])
    assert set(found) == {"dashboard-airflow", "dashboard-kubernetes", "dashboard-database"}
    for dashboard in found.values():
        api_model(dashboard, Dashboard)
        assert unknown_airflow_metrics(json.dumps(dashboard)) == set()
        variables = {v["name"]: v for v in dashboard["template_variables"]}
        assert variables["env"]["default"] == env and variables["env"]["prefix"] == "env"
        assert variables["team"]["prefix"] == "team"
        queries = widget_queries(dashboard["widgets"])
        assert queries
        assert all("$env" in q for q in queries), "every widget follows the env variable"


def test_overview_covers_what_operators_watch(stacks: dict[str, Any]) -> None:
    overview = dashboards(stacks["prod"])["dashboard-airflow"]
    text = " ".join(widget_queries(overview["widgets"]))
    for metric in (
        "airflow.scheduler_heartbeat",
        "airflow.dag_processing.total_parse_time",
        "airflow.dag_processing.import_errors",
        "airflow.executor.running_tasks",
        "airflow.executor.queued_tasks",
        "airflow.ti_successes",
        "airflow.ti_failures",
        "airflow.dagrun.duration.success",
        "airflow.executor.open_slots",
        "airflow.pool.running_slots",
    ):
        assert metric in text, metric
    assert all("$team" in q for q in widget_queries(overview["widgets"]))


def test_kubernetes_dashboard_covers_every_airflow_namespace(stacks: dict[str, Any]) -> None:
    text = " ".join(widget_queries(dashboards(stacks["prod"])["dashboard-kubernetes"]["widgets"]))
    for metric in (
        "kubernetes_state.pod.status_phase",
        "kubernetes.containers.restarts",
        "kubernetes.cpu.usage.total",
        "kubernetes.cpu.requests",
        "kubernetes.memory.usage",
        "kubernetes.memory.requests",
    ):
        assert metric in text, metric
    for namespace in ("airflow", "airflow-tasks"):
        assert f"kube_namespace:{namespace}}}" in text


def test_database_dashboard_reads_the_environment_database(stacks: dict[str, Any]) -> None:
    text = " ".join(widget_queries(dashboards(stacks["prod"])["dashboard-database"]["widgets"]))
    for metric in ("aws.rds.database_connections", "aws.rds.cpuutilization", "aws.rds.free_storage_space"):
        assert f"{metric}{{$env,dbinstanceidentifier:flightdeck-prod}}" in text


@pytest.mark.parametrize("env", ENVS)
def test_outputs_link_every_dashboard(stacks: dict[str, Any], env: str) -> None:
    output = stacks[env]["output"]["datadog_dashboards"]["value"]
    assert set(output) == {"airflow", "kubernetes", "database"}
    for key, url in output.items():
        assert re.fullmatch(rf"https://app\.datadoghq\.eu\$\{{datadog_dashboard_json\.datadog_dashboard-{key}_[0-9A-F]+\.url\}}", url)


# Monitors


@pytest.mark.parametrize("env", ENVS)
def test_monitors_are_valid_tagged_and_use_real_metrics(stacks: dict[str, Any], env: str) -> None:
    config = fixture_configs()[env]
    found = monitors(stacks[env])
    assert set(found) == {
        "monitor-scheduler-heartbeat",
        "monitor-task-failures",
        "monitor-import-errors",
        "monitor-queued-tasks",
        "monitor-pending-pods",
        "monitor-database-cpu",
        "monitor-database-storage",
        "monitor-database-connections",
        "monitor-node-provisioning",
    }
    connections = found["monitor-database-connections"]["query"]
    assert "aws.rds.database_connections{dbinstanceidentifier:" in connections
    assert connections.endswith(f">= {config.datadog.monitors.database_connections.critical:g}")
    for name, monitor in found.items():
        api_model(as_api_monitor(monitor), Monitor)
        assert unknown_airflow_metrics(monitor["query"]) == set(), name
        assert {f"env:{env}", "service:airflow", f"team:{config.owner}"} <= set(monitor["tags"])
        assert monitor["priority"] == str(config.datadog.monitors.priority)
        assert monitor["name"].startswith(f"[{env}] ")
        # Links to a dashboard of this stack and tells the file's notification targets.
        assert re.search(r"Dashboard: https://app\.datadoghq\.eu\$\{datadog_dashboard_json\.[^}]+\.url\}", monitor["message"])
        assert monitor["message"].rstrip().endswith(" ".join(config.datadog.monitors.notify))


def test_prod_pages_on_call_and_dev_notifies_a_channel(stacks: dict[str, Any]) -> None:
    prod = monitors(stacks["prod"])["monitor-scheduler-heartbeat"]
    dev = monitors(stacks["dev"])["monitor-scheduler-heartbeat"]
    assert "@pagerduty-" in prod["message"] and prod["priority"] == "1" and prod["renotify_interval"] == 60
    assert "@pagerduty-" not in dev["message"] and "@slack-airflow-dev" in dev["message"]
    assert "renotify_interval" not in dev


@pytest.mark.parametrize("env", ENVS)
def test_thresholds_come_from_the_environment_file(stacks: dict[str, Any], env: str) -> None:
    settings = fixture_configs()[env].datadog.monitors
    found = monitors(stacks[env])

    def critical_in_query(monitor: dict[str, Any]) -> float:
        match = re.search(r"[<>]=? (\d+(?:\.\d+)?)$", monitor["query"])
        assert match, f"no threshold at the end of {monitor['query']!r}"
        return float(match.group(1))

    for name, threshold, scale in (
        ("monitor-task-failures", settings.task_failure_percent, 1),
        ("monitor-queued-tasks", settings.queued_tasks, 1),
        ("monitor-import-errors", settings.import_errors, 1),
        ("monitor-database-cpu", settings.database_cpu_percent, 1),
        ("monitor-database-storage", settings.database_free_storage_gib, 1024**3),
        ("monitor-node-provisioning", settings.provisioning_failures, 1),
    ):
        monitor = found[name]
        assert float(monitor["monitor_thresholds"]["critical"]) == threshold.critical * scale, name
        assert critical_in_query(monitor) == threshold.critical * scale, "Datadog requires the query to match"
        if threshold.warning is not None:
            assert float(monitor["monitor_thresholds"]["warning"]) == threshold.warning * scale
    heartbeat = found["monitor-scheduler-heartbeat"]
    assert heartbeat["query"].startswith(f"sum(last_{settings.scheduler_heartbeat_minutes}m):")
    assert heartbeat["notify_no_data"] is True
    assert found["monitor-pending-pods"]["query"].startswith(f"min(last_{settings.pending_pod_minutes}m):")
    assert "kube_namespace:airflow-tasks" in found["monitor-pending-pods"]["query"]


def test_the_agent_ships_each_airflows_component_logs_and_not_the_tasks(stacks: dict[str, Any]) -> None:
    for env, stack in stacks.items():
        config = fixture_configs()[env]
        if config.datadog is None:
            continue
        logs = values_of(stack, "datadog")["datadog"]["logs"]
        assert logs == {"enabled": True, "containerCollectAll": False}, "only the annotated containers"
        for namespace in ("airflow", *(t.airflow_namespace for t in config.dedicated_teams)):
            values = values_of(stack, namespace=namespace)
            for section, container in (
                ("scheduler", "scheduler"), ("apiServer", "api-server"), ("triggerer", "triggerer"),
                ("dagProcessor", "dag-processor"), ("pgbouncer", "pgbouncer"),
            ):  # fmt: skip
                annotation = values[section]["podAnnotations"][f"ad.datadoghq.com/{container}.logs"]
                assert json.loads(annotation) == [{"source": "airflow", "service": f"{namespace}-{container}"}]
            # Task logs go to the bucket; a task pod asks the agent for nothing.
            task_annotations = parse_yaml(values["podTemplate"])["metadata"].get("annotations", {})
            assert not [key for key in task_annotations if key.startswith("ad.datadoghq.com/")]


def test_karpenter_is_scraped_and_its_failed_launches_alert(stacks: dict[str, Any]) -> None:
    """Node provisioning failures: Datadog's Karpenter check scrapes the controller (annotation), the agent
    may reach exactly that endpoint (network policy), and the monitor counts failed EC2 launches."""
    for env, stack in stacks.items():
        if fixture_configs()[env].datadog is None:
            continue
        karpenter = values_of(stack, "karpenter")
        (annotation,) = [v for k, v in karpenter["podAnnotations"].items() if k == "ad.datadoghq.com/controller.checks"]
        check = json.loads(annotation)["karpenter"]
        assert check["instances"] == [{"openmetrics_endpoint": "http://%%host%%:8080/metrics"}]
        egress = network_policies(stack, "datadog")["allow-egress-scrape-karpenter"]["egress"]
        assert [str(port["port"]) for rule in egress for port in rule["ports"]] == ["8080"]
        (peer,) = [peer for rule in egress for peer in rule["to"]]
        assert peer["namespace_selector"]["match_labels"] == {"kubernetes.io/metadata.name": "kube-system"}
        assert peer["pod_selector"]["match_labels"]["app.kubernetes.io/name"] == "karpenter"
        # karpenter_cloudprovider_errors_total, as Datadog's Karpenter integration names it (its metadata.csv).
        query = monitors(stack)["monitor-node-provisioning"]["query"]
        assert f"sum:karpenter.cloudprovider.errors.count{{env:{env} AND method:create}}.as_count()" in query

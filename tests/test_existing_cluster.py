"""``cloud: existing``: the Kubernetes, Airflow and monitoring layers on a cluster someone else runs.

A copy of ``examples/existing/dev.yaml`` (``tests/fixtures/existing``) is synthesized once per session; these tests read its stack.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flightdeck.config import ExistingEnvironment
from platform_constructs.helm import SYNCED_SECRETS_CHART

from .conftest import EXISTING_EXAMPLES, configs_in, network_policies, resource_paths, resources, values_of


def _config() -> ExistingEnvironment:
    config = configs_in(EXISTING_EXAMPLES)["dev"]
    assert isinstance(config, ExistingEnvironment)
    return config


def test_the_cluster_is_reached_through_the_kubeconfig_and_nothing_cloud_is_created(existing_stack: dict[str, Any]) -> None:
    existing = _config().existing
    expected = {"config_path": existing.kubeconfig_path, "config_context": existing.context}
    assert existing_stack["provider"]["kubernetes"] == [expected]
    assert existing_stack["provider"]["helm"] == [{"kubernetes": expected}]
    assert set(existing_stack["terraform"]["required_providers"]) == {"kubernetes", "helm"}
    assert all(t.startswith(("kubernetes_", "helm_")) for t in existing_stack["resource"])
    assert existing_stack["output"]["kubeconfig_command"]["value"] == "kubectl config use-context kind-flightdeck"
    # No bucket and no image repository of its own: no outputs that would point at nothing.
    assert set(existing_stack["output"]) == {"cluster_name", "kubeconfig_command", "database_endpoint", "airflow_url"}


def test_state_defaults_to_a_local_file_outside_the_synthesis_folder(existing_stack: dict[str, Any]) -> None:
    # Terraform runs in cdktf.out/stacks/dev_cluster: the state lands in terraform-state/ at the project root.
    assert existing_stack["terraform"]["backend"] == {"local": {"path": "../../../terraform-state/dev.tfstate"}}


def test_secrets_are_read_from_the_owners_namespace_by_a_reader_that_may_get_exactly_them(existing_stack: dict[str, Any]) -> None:
    config = _config()
    (role,) = [r for r in resources(existing_stack, "kubernetes_role_v1").values() if r["metadata"]["name"] == "flightdeck-secret-reader"]
    assert role["metadata"]["namespace"] == "flightdeck-secrets"
    assert role["rule"] == [{"api_groups": [""], "resources": ["secrets"], "resource_names": ["airflow-database"], "verbs": ["get"]}]
    (binding,) = [
        b for b in resources(existing_stack, "kubernetes_role_binding_v1").values() if b["metadata"]["name"] == "flightdeck-secret-reader"
    ]
    # The example has no monitoring, so only Airflow's namespace holds a store.
    assert binding["subject"] == [{"kind": "ServiceAccount", "name": "flightdeck-secret-reader", "namespace": "airflow"}]
    store = values_of(existing_stack, "airflow-secrets")["secretStore"]
    assert store["serviceAccount"] == "flightdeck-secret-reader"
    assert store["provider"]["kubernetes"]["remoteNamespace"] == config.existing.secrets_namespace
    assert store["provider"]["kubernetes"]["auth"] == {"serviceAccount": {"name": "flightdeck-secret-reader"}}
    synced = {s["name"]: s for s in values_of(existing_stack, "airflow-secrets")["externalSecrets"]}
    assert synced["airflow-metadata"]["remoteKey"] == "airflow-database"
    ini = synced["airflow-pgbouncer-config"]["template"]["pgbouncer.ini"]
    assert "airflow = host=postgres.flightdeck-db.svc.cluster.local dbname=airflow port=5432" in ini.replace("airflow-metadata", "airflow")
    assert "server_tls_sslmode = prefer" in ini


def test_the_service_account_chart_renders_the_reader_only_when_asked() -> None:
    template = (SYNCED_SECRETS_CHART / "templates" / "service-account.yaml").read_text()
    assert "{{- if .serviceAccount }}" in template and "kind: ServiceAccount" in template


def test_airflow_uses_the_clusters_ingress_class_and_tls_secret_and_no_remote_logs(existing_stack: dict[str, Any]) -> None:
    values = values_of(existing_stack)
    api_server = values["ingress"]["apiServer"]
    assert api_server["ingressClassName"] == "nginx"
    assert api_server["annotations"] == {}
    assert api_server["hosts"] == [{"name": "airflow.localtest.me", "tls": {"enabled": True, "secretName": "airflow-tls"}}]
    assert values["config"]["logging"] == {"remote_logging": "False"}
    assert not [e for e in values.get("env", []) if e["name"].startswith("AIRFLOW_CONN_") and "LOGS" in e["name"]]
    # No cloud identity: the service accounts carry no annotations.
    for component in ("scheduler", "workers", "triggerer", "dagProcessor", "apiServer"):
        assert not values[component]["serviceAccount"].get("annotations")


def test_network_policies_use_the_clusters_ranges(existing_stack: dict[str, Any]) -> None:
    policies = network_policies(existing_stack, "airflow")
    database = policies["allow-egress-database"]["egress"][0]
    assert [peer["ip_block"]["cidr"] for peer in database["to"]] == ["10.244.0.0/16"]
    ui = policies["allow-ingress-ui-from-load-balancer"]["ingress"][0]
    assert [peer["ip_block"]["cidr"] for peer in ui["from"]] == ["10.244.0.0/16", "172.18.0.0/16"]


def test_the_airflow_and_team_layers_are_the_same_code_as_on_aws(existing_stack: dict[str, Any], stacks: dict[str, Any]) -> None:
    # The differences are what the files choose: AWS dev has no teams and sends metrics to the
    # Datadog agent (the example has no monitoring, so StatsD stays in the namespace).
    def layer(stack: dict[str, Any], prefix: str) -> set[str]:
        return {p for p in resource_paths(stack, prefix) if not any(word in p for word in ("analytics", "marketing", "statsd"))}

    def without_credentials(paths: set[str]) -> set[str]:
        return {p for p in paths if "workload-credentials" not in p}

    aws, existing = layer(stacks["dev"], "airflow/"), layer(existing_stack, "airflow/")
    assert existing - aws == set()
    # The owners' cluster names no credential agent: its pods have no cloud identity of Flightdeck's;
    # its owners give Airflow its database user, so there is no roles namespace either.
    assert aws - existing == {p for p in aws if "workload-credentials" in p or p.startswith("airflow/database-roles/")}
    # Teams: the same constructs as in AWS prod, for the one team the example has.
    assert layer(existing_stack, "teams/") == layer(stacks["prod"], "teams/")
    assert resource_paths(existing_stack, "teams/analytics/") == without_credentials(resource_paths(stacks["prod"], "teams/analytics/"))


def test_the_version_its_database_was_migrated_to_is_kept_in_the_cluster_and_a_downgrade_refused(
    existing_stack: dict[str, Any], tmp_path: Path
) -> None:
    """No cloud keeps it beside the owners' database: a ConfigMap written after the release, read at every plan."""
    from platform_constructs.kubernetes.schema_record import RECORD_NAME, VERSION_KEY

    from .terraform_eval import Evaluator

    (record,) = resources(existing_stack, "kubernetes_config_map_v1").values()
    assert record["metadata"]["name"] == RECORD_NAME and record["metadata"]["namespace"] == "airflow"
    assert record["data"] == {VERSION_KEY: "3.2.2"}
    (release_id,) = [key for key, release in resources(existing_stack, "helm_release").items() if release["name"] == "airflow"]
    assert record["depends_on"] == [f"helm_release.{release_id}"], "recorded only once the release, and its migration, succeeded"
    (listed_id, listed), = existing_stack["data"]["kubernetes_resources"].items()
    assert (listed["kind"], listed["namespace"], listed["field_selector"]) == ("ConfigMap", "airflow", f"metadata.name={RECORD_NAME}")
    (precondition,) = record["lifecycle"]["precondition"]
    evaluator = Evaluator(tmp_path, f"data.kubernetes_resources.{listed_id}.objects", precondition)
    assert evaluator.run([]).status == 0, "the first deploy finds no record"
    assert evaluator.run([{"data": {VERSION_KEY: "3.2.2"}}]).status == 0
    assert evaluator.run([{"data": {VERSION_KEY: "3.1.0"}}]).status == 0, "an upgrade"
    assert evaluator.run([{"metadata": {"name": RECORD_NAME}}]).status == 0, "a record without data refuses nothing"
    refused = evaluator.run([{"data": {VERSION_KEY: "3.10.0"}}])
    assert refused.status != 0
    assert "Airflow 3.2.2 is older than the version the database" in refused.output
    assert f"delete the ConfigMap {RECORD_NAME} in airflow" in refused.output

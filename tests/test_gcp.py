"""``cloud: gcp``: a copy of the GKE examples (``tests/fixtures/gke``), synthesized once per session.

What each tier gets on Google Cloud, and that everything above the cluster is the same code as on AWS.
"""

from __future__ import annotations

import ipaddress
import json
from typing import Any

import pytest

from flightdeck.config import GcpEnvironment
from platform_constructs.gcp.network import GcpNetworkLayout

from .conftest import GKE_EXAMPLES, configs_in, network_policies, only, releases, resource_paths, resources, values_of


def _configs() -> dict[str, GcpEnvironment]:
    configs = configs_in(GKE_EXAMPLES)
    assert all(isinstance(c, GcpEnvironment) for c in configs.values())
    return configs


def _by_name(stack: dict[str, Any], resource_type: str, key: str = "name") -> dict[str, dict[str, Any]]:
    return {r[key]: r for r in resources(stack, resource_type).values()}


@pytest.mark.parametrize("env", ["dev", "qa", "prod"])
def test_network_carves_the_vpc_range_and_reaches_google_privately(gke_stacks: dict[str, Any], env: str) -> None:
    stack, config = gke_stacks[env], _configs()[env]
    layout = GcpNetworkLayout.of(config.network.cidr)
    assert only(stack, "google_compute_network")["auto_create_subnetworks"] is False
    subnets = _by_name(stack, "google_compute_subnetwork")
    nodes = subnets[f"flightdeck-{env}-nodes"]
    assert nodes["ip_cidr_range"] == layout.nodes
    assert nodes["private_ip_google_access"] is True
    assert {r["range_name"]: r["ip_cidr_range"] for r in nodes["secondary_ip_range"]} == {"pods": layout.pods, "services": layout.services}
    assert ("log_config" in nodes) is config.network.flow_logs
    proxy = subnets[f"flightdeck-{env}-proxy-only"]
    assert (proxy["purpose"], proxy["ip_cidr_range"]) == ("REGIONAL_MANAGED_PROXY", layout.proxy_only)
    nat = only(stack, "google_compute_router_nat")
    assert nat["nat_ip_allocate_option"] == "AUTO_ONLY"
    assert nat["source_subnetwork_ip_ranges_to_nat"] == "LIST_OF_SUBNETWORKS"
    peering = only(stack, "google_compute_global_address")
    assert peering["purpose"] == "VPC_PEERING"
    assert f"{peering['address']}/{peering['prefix_length']}" == layout.database
    assert only(stack, "google_service_networking_connection")["service"] == "servicenetworking.googleapis.com"


def test_the_layout_never_overlaps_and_stays_inside_the_range() -> None:
    for cidr in ("10.0.0.0/16", "10.64.0.0/18", "172.20.0.0/20"):
        layout = GcpNetworkLayout.of(cidr)
        ranges = [ipaddress.IPv4Network(r) for r in layout.ranges().values()]
        assert all(r.subnet_of(ipaddress.IPv4Network(cidr)) for r in ranges)
        assert not any(a.overlaps(b) for i, a in enumerate(ranges) for b in ranges[i + 1 :])
    with pytest.raises(ValueError, match="a GKE environment needs a /16 to /20"):
        GcpNetworkLayout.of("10.0.0.0/22")


@pytest.mark.parametrize("env", ["dev", "qa", "prod"])
def test_gke_cluster(gke_stacks: dict[str, Any], env: str) -> None:
    stack, config = gke_stacks[env], _configs()[env]
    cluster = only(stack, "google_container_cluster")
    if env == "dev":
        assert cluster["location"] == config.gcp.zones[0] and "node_locations" not in cluster
    else:
        assert cluster["location"] == config.gcp.region and sorted(cluster["node_locations"]) == sorted(config.gcp.zones)
    assert cluster["remove_default_node_pool"] is True
    assert cluster["networking_mode"] == "VPC_NATIVE"
    assert cluster["datapath_provider"] == "ADVANCED_DATAPATH"
    private = cluster["private_cluster_config"]
    assert private["enable_private_nodes"] is True and private["enable_private_endpoint"] is True
    assert private["master_ipv4_cidr_block"] == GcpNetworkLayout.of(config.network.cidr).control_plane
    assert cluster["workload_identity_config"] == {"workload_pool": f"{config.gcp.project_id}.svc.id.goog"}
    assert cluster["enable_shielded_nodes"] is True
    assert cluster["release_channel"] == {"channel": "REGULAR"}
    assert cluster["min_master_version"] == "1.33"
    key = only(stack, "google_kms_crypto_key")
    assert cluster["database_encryption"]["state"] == "ENCRYPTED"
    assert cluster["database_encryption"]["key_name"].startswith("${google_kms_crypto_key.")
    assert key["rotation_period"]
    # Where the environment is protected from deletion, so is the key its Secrets are encrypted with.
    assert key.get("lifecycle", {}).get("prevent_destroy", False) is config.database.deletion_protection
    assert cluster["deletion_protection"] is (env != "dev")
    assert cluster["resource_labels"]["env"] == env


@pytest.mark.parametrize("env", ["dev", "qa", "prod"])
def test_node_pools_carry_the_placement_labels_taints_and_autoscaling(gke_stacks: dict[str, Any], env: str) -> None:
    stack, config = gke_stacks[env], _configs()[env]
    pools = _by_name(stack, "google_container_node_pool")
    expected = {"system", "workers", *(f"team-{t.name}" for t in config.teams if t.dedicated_nodes)}
    assert set(pools) == expected
    groups = {"system": config.cluster.node_groups.system, "workers": config.cluster.node_groups.workers}
    groups |= {f"team-{t.name}": t.dedicated_nodes for t in config.teams if t.dedicated_nodes}
    node_sa = _by_name(stack, "google_service_account", "account_id")[f"flightdeck-{env}-nodes"]
    for name, pool in pools.items():
        group = groups[name]
        node = pool["node_config"]
        assert node["machine_type"] == group.instance_types[0]
        assert node["labels"]["flightdeck.io/node-pool"] == name
        assert node["spot"] is (group.capacity_type == "SPOT")
        assert node["workload_metadata_config"] == {"mode": "GKE_METADATA"}
        assert node["shielded_instance_config"] == {"enable_integrity_monitoring": True, "enable_secure_boot": True}
        assert node["service_account"].startswith("${google_service_account.") and node_sa
        assert pool["autoscaling"]["total_min_node_count"] == group.min_size
        assert pool["autoscaling"]["total_max_node_count"] == group.max_size
        taints = {(t["key"], t["value"], t["effect"]) for t in node.get("taint", [])}
        if name == "system":
            # GKE's own taint for a dedicated system pool: GKE's components tolerate it, and so do ours.
            assert taints == {("components.gke.io/gke-managed-components", "true", "NO_SCHEDULE")}
        elif name == "workers":
            assert taints == {("flightdeck.io/node-pool", "workers", "NO_SCHEDULE")}
        else:
            assert taints == {("team", name.removeprefix("team-"), "NO_SCHEDULE")}
            assert node["labels"]["team"] == name.removeprefix("team-")
            assert node["resource_labels"]["team"] == name.removeprefix("team-")
    # The node service account writes logs and metrics, and nothing else at project level; the secret
    # operator's one project grant is conditioned on the kept keys' prefix (tests/test_airflow_trust.py).
    roles = {m["role"] for m in resources(stack, "google_project_iam_member").values() if "condition" not in m}
    assert roles == {
        "roles/logging.logWriter", "roles/monitoring.metricWriter", "roles/monitoring.viewer",
        "roles/stackdriver.resourceMetadata.writer", "roles/autoscaling.metricsWriter",
    }


@pytest.mark.parametrize("env", ["dev", "qa", "prod"])
def test_cloud_sql_is_private_tls_only_and_as_available_as_the_tier(gke_stacks: dict[str, Any], env: str) -> None:
    stack, config = gke_stacks[env], _configs()[env]
    database = config.database
    instance = only(stack, "google_sql_database_instance")
    settings = instance["settings"]
    assert instance["database_version"] == "POSTGRES_16"
    assert settings["ip_configuration"]["ipv4_enabled"] is False
    assert settings["ip_configuration"]["private_network"].startswith("${google_compute_network.")
    assert settings["ip_configuration"]["ssl_mode"] == "ENCRYPTED_ONLY"
    assert settings["availability_type"] == ("REGIONAL" if database.high_availability else "ZONAL")
    backups = settings["backup_configuration"]
    assert backups["enabled"] is True
    assert backups["backup_retention_settings"]["retained_backups"] == database.backup_retention_days
    assert backups["point_in_time_recovery_enabled"] is (database.point_in_time_recovery_days > 0)
    if database.point_in_time_recovery_days:
        assert backups["transaction_log_retention_days"] == database.point_in_time_recovery_days
    assert instance["deletion_protection"] is database.deletion_protection
    assert settings["deletion_protection_enabled"] is database.deletion_protection
    assert settings["tier"] == database.tier
    assert settings["disk_autoresize_limit"] == database.disk_autoresize_limit_gib


def test_the_database_password_exists_only_as_references(gke_stacks: dict[str, Any]) -> None:
    stack = gke_stacks["prod"]
    password = only(stack, "random_password")
    assert password["length"] >= 32
    user = only(stack, "google_sql_user")
    assert "password" not in user and user["password_wo"].startswith("${random_password.")
    version = only(stack, "google_secret_manager_secret_version")
    assert "secret_data" not in version and "random_password." in version["secret_data_wo"]
    # ESO reads it from Secret Manager by id; the pgbouncer config is rendered in the cluster.
    synced = {s["name"]: s for s in values_of(stack, "airflow-secrets")["externalSecrets"]}
    secret = only(stack, "google_secret_manager_secret")
    assert secret["secret_id"] == "flightdeck-prod-airflow-database"
    # That is the instance user's: only the roles namespace reads it; Airflow connects as its own role.
    master = {s["name"]: s for s in values_of(stack, "airflow-db-admin-secrets")["externalSecrets"]}
    assert master["airflow-database-master"]["remoteKey"].endswith(".secret_id}")
    assert synced["airflow-metadata"]["remoteKey"] == "flightdeck-prod-airflow-database-password"
    assert "server_tls_sslmode = require" in synced["airflow-pgbouncer-config"]["template"]["pgbouncer.ini"]


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_task_logs_bucket_and_image_repository(gke_stacks: dict[str, Any], env: str) -> None:
    stack, config = gke_stacks[env], _configs()[env]
    bucket = only(stack, "google_storage_bucket")
    assert bucket["name"] == config.log_bucket_name
    assert bucket["uniform_bucket_level_access"] is True
    assert bucket["public_access_prevention"] == "enforced"
    assert bucket["versioning"] == {"enabled": True}
    ages = [r["condition"]["age"] for r in bucket["lifecycle_rule"] if "age" in r["condition"]]
    assert ages == [config.task_logs.expire_after_days]
    repository = only(stack, "google_artifact_registry_repository")
    assert (repository["format"], repository["docker_config"]) == ("DOCKER", {"immutable_tags": True})
    assert stack["output"]["image_repository_url"]["value"] == (
        f"{config.gcp.region}-docker.pkg.dev/{config.gcp.project_id}/flightdeck-{env}-airflow/airflow"
    )
    logging = values_of(stack)["config"]["logging"]
    assert logging["remote_base_log_folder"].startswith("gs://") and logging["remote_logging"] == "True"


def test_each_airflow_component_is_its_own_google_service_account_with_only_its_log_access(gke_stacks: dict[str, Any]) -> None:
    stack = gke_stacks["prod"]
    values = values_of(stack)
    accounts = {r["account_id"]: k for k, r in resources(stack, "google_service_account").items()}
    bindings = {r["member"]: r for r in resources(stack, "google_service_account_iam_member").values()}
    log_roles = {
        r["member"].split(".")[1]: r["role"] for r in resources(stack, "google_storage_bucket_iam_member").values()
        if "task-logs" in r["bucket"]
    }
    chart_keys = {"scheduler": "scheduler", "api-server": "apiServer", "dag-processor": "dagProcessor", "triggerer": "triggerer", "worker": "workers"}
    for component, key in chart_keys.items():
        logical = accounts[f"flightdeck-prod-{component}"]
        binding = bindings[f"serviceAccount:example-airflow-prod.svc.id.goog[airflow/airflow-{component}]"]
        assert binding["role"] == "roles/iam.workloadIdentityUser"
        assert binding["service_account_id"] == f"${{google_service_account.{logical}.name}}"
        annotation = values[key]["serviceAccount"]["annotations"]["iam.gke.io/gcp-service-account"]
        assert annotation == f"${{google_service_account.{logical}.email}}"
        expected = "roles/storage.objectUser" if component in ("dag-processor", "triggerer", "worker") else "roles/storage.objectViewer"
        assert log_roles[logical] == expected
    for member in resources(stack, "google_storage_bucket_iam_member").values():
        assert "startsWith" in member["condition"]["expression"]


def test_the_secret_sync_reads_exactly_the_named_secrets(gke_stacks: dict[str, Any]) -> None:
    stack = gke_stacks["prod"]
    store = values_of(stack, "airflow-secrets")["secretStore"]
    assert store["provider"] == {"gcpsm": {"projectID": "example-airflow-prod"}}
    eso = values_of(stack, "external-secrets")["serviceAccount"]
    assert eso["annotations"]["iam.gke.io/gcp-service-account"].startswith("${google_service_account.")
    readers = [m for m in resources(stack, "google_secret_manager_secret_iam_member").values() if "secret-sync" in m["member"]]
    named = ["flightdeck-airflow-sso", "flightdeck-dags-git", "flightdeck-datadog"]
    assert sorted(m["secret_id"] for m in readers if not m["secret_id"].startswith("${")) == named
    assert len(readers) == 4
    assert {m["role"] for m in readers} == {"roles/secretmanager.secretAccessor"}


def test_the_ui_is_an_internal_load_balancer_with_the_named_certificate(gke_stacks: dict[str, Any]) -> None:
    api_server = values_of(gke_stacks["prod"])["ingress"]["apiServer"]
    assert "ingressClassName" not in api_server
    assert api_server["annotations"] == {
        "kubernetes.io/ingress.class": "gce-internal",
        "ingress.gcp.kubernetes.io/pre-shared-cert": "airflow-example-internal",
    }
    policies = network_policies(gke_stacks["prod"], "airflow")
    sources = [peer["ip_block"]["cidr"] for peer in policies["allow-ingress-ui-from-load-balancer"]["ingress"][0]["from"]]
    assert sources == [GcpNetworkLayout.of("10.130.0.0/16").proxy_only, "35.191.0.0/16", "130.211.0.0/22"]


def test_every_labelled_resource_carries_the_environment_labels(gke_stacks: dict[str, Any]) -> None:
    stack = gke_stacks["prod"]
    (provider,) = stack["provider"]["google"]
    assert provider["default_labels"] == {"env": "prod", "team": "data-platform", "cost-center": "cc-1042", "managed-by": "flightdeck"}
    instance = only(stack, "google_sql_database_instance")
    assert instance["settings"]["user_labels"]["cost-center"] == "cc-1042"


def test_database_monitors_read_cloud_sql_metrics(gke_stacks: dict[str, Any]) -> None:
    monitors = {m["name"]: m for m in resources(gke_stacks["prod"], "datadog_monitor").values()}
    cpu = next(m for name, m in monitors.items() if "CPU" in name)
    assert cpu["query"] == (
        "avg(last_15m):avg:gcp.cloudsql.database.cpu.utilization{database_id:example-airflow-prod:flightdeck-prod} * 100 >= 85"
    )
    storage = next(m for name, m in monitors.items() if "storage" in name)
    assert "gcp.cloudsql.database.disk.quota" in storage["query"] and "gcp.cloudsql.database.disk.bytes_used" in storage["query"]


def test_everything_above_the_cluster_is_the_same_code_as_on_aws(gke_stacks: dict[str, Any], stacks: dict[str, Any]) -> None:
    """The GKE and AWS prod files ask for the same Airflow and teams; the layers above the seam match."""
    def upper(stack: dict[str, Any]) -> set[str]:
        # Credential endpoints differ by cloud (tests/test_network_policies.py checks each).
        return {p for p in resource_paths(stack) if not p.startswith("platform/") and "workload-credentials" not in p}

    aws, gcp = upper(stacks["prod"]), upper(gke_stacks["prod"])
    assert gcp <= aws
    # EKS's own add-ons: the load balancer controller, and Karpenter (GKE's node pools autoscale themselves),
    # with what watches Karpenter: the agent's egress to its metrics, and the failed-launch monitor.
    assert aws - gcp == {
        "addons/aws-load-balancer-controller", "addons/karpenter-crd", "addons/karpenter", "addons/node-capacity",
        "datadog-agent/namespace/allow-egress-scrape-karpenter", "datadog/monitor-node-provisioning",
    }  # fmt: skip
    # The Airflow values differ only where a handle from the seam goes in.
    aws_values, gcp_values = values_of(stacks["prod"]), values_of(gke_stacks["prod"])
    differing = {key for key in aws_values.keys() | gcp_values.keys() if aws_values.get(key) != gcp_values.get(key)}
    cloud_bound = {
        "images", "ingress", "config", "env", "scheduler", "apiServer", "dagProcessor", "triggerer", "workers", "data", "pgbouncer", "dags",
        "podTemplate",
    }
    assert differing <= cloud_bound
    assert json.dumps(releases(stacks["prod"])["kyverno"]["values"]) == json.dumps(releases(gke_stacks["prod"])["kyverno"]["values"])


def test_a_team_pool_starts_empty_and_grows_from_zero(gke_stacks: dict[str, Any]) -> None:
    # GKE's autoscaler knows a pool's labels and taints from its node config, so it scales an empty
    # pool up for a pending pod that selects and tolerates it.
    pools = {p["name"]: p for p in resources(gke_stacks["prod"], "google_container_node_pool").values()}
    team = pools["team-analytics"]
    assert team["autoscaling"]["total_min_node_count"] == 0 and team["autoscaling"]["total_max_node_count"] == 10
    assert team["initial_node_count"] == 0
    assert team["node_config"]["labels"]["team"] == "analytics"
    assert team["node_config"]["spot"] is False, "spot only where the file asks (capacity_type: SPOT)"

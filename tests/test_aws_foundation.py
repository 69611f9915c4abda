"""What the foundation promises, checked in the synthesized JSON of the fixture environments (tests/fixtures/platform)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from .conftest import only, resources

ENVIRONMENTS = ("dev", "qa", "prod")


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_provider_tags_every_resource_with_env_team_and_cost_center(stacks: dict[str, Any], env: str) -> None:
    (provider,) = stacks[env]["provider"]["aws"]
    tags = provider["default_tags"][0]["tags"]
    assert tags["env"] == env
    assert tags["team"] == "data-platform"
    assert tags["cost-center"] == "CC-1042"
    assert len(provider["allowed_account_ids"]) == 1


def test_prod_spans_three_zones_with_a_nat_gateway_each_and_flow_logs(stacks: dict[str, Any]) -> None:
    prod = stacks["prod"]
    assert len(resources(prod, "aws_subnet")) == 9
    assert len(resources(prod, "aws_nat_gateway")) == 3
    private_routes = [r for r in resources(prod, "aws_route").values() if "nat_gateway_id" in r]
    assert len({r["nat_gateway_id"] for r in private_routes}) == 3
    flow_log = only(prod, "aws_flow_log")
    assert flow_log["traffic_type"] == "ALL"


def test_dev_uses_two_zones_a_single_nat_gateway_and_no_flow_logs(stacks: dict[str, Any]) -> None:
    dev = stacks["dev"]
    assert len(resources(dev, "aws_subnet")) == 6
    assert len(resources(dev, "aws_nat_gateway")) == 1
    assert resources(dev, "aws_flow_log") == {}


def test_database_subnets_have_no_route_out(stacks: dict[str, Any]) -> None:
    prod = stacks["prod"]
    tables = {k: v for k, v in resources(prod, "aws_route_table").items() if "database" in v["tags"]["Name"]}
    (database_table,) = tables
    routes_to_it = [r for r in resources(prod, "aws_route").values() if database_table in r["route_table_id"]]
    assert routes_to_it == []


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_eks_cluster_is_pinned_encrypted_logged_and_uses_access_entries(stacks: dict[str, Any], env: str) -> None:
    cluster = only(stacks[env], "aws_eks_cluster")
    assert cluster["version"] == "1.33"
    assert cluster["encryption_config"]["resources"] == ["secrets"]
    assert "aws_kms_key" in cluster["encryption_config"]["provider"]["key_arn"]
    assert set(cluster["enabled_cluster_log_types"]) == {"api", "audit", "authenticator"}
    assert cluster["access_config"]["authentication_mode"] == "API"
    log_groups = [g for g in resources(stacks[env], "aws_cloudwatch_log_group").values() if g["name"].startswith("/aws/eks/")]
    assert len(log_groups) == 1 and log_groups[0]["retention_in_days"] >= 30


def test_prod_api_endpoint_is_private(stacks: dict[str, Any]) -> None:
    vpc_config = only(stacks["prod"], "aws_eks_cluster")["vpc_config"]
    assert vpc_config["endpoint_public_access"] is False
    assert vpc_config["endpoint_private_access"] is True


def test_admin_roles_get_cluster_admin_access_entries(stacks: dict[str, Any]) -> None:
    prod = stacks["prod"]
    principals = {e["principal_arn"] for e in resources(prod, "aws_eks_access_entry").values() if e["type"] == "STANDARD"}
    assert principals == {
        "arn:aws:iam::333333333333:role/platform-admins",
        "arn:aws:iam::333333333333:role/oncall-breakglass",
    }
    policies = {a["policy_arn"] for a in resources(prod, "aws_eks_access_policy_association").values()}
    assert policies == {"arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"}


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_managed_addons_with_network_policy_enforcement(stacks: dict[str, Any], env: str) -> None:
    addons = {a["addon_name"]: a for a in resources(stacks[env], "aws_eks_addon").values()}
    assert set(addons) == {"vpc-cni", "coredns", "kube-proxy", "aws-ebs-csi-driver", "eks-pod-identity-agent"}
    assert json.loads(addons["vpc-cni"]["configuration_values"]) == {"enableNetworkPolicy": "true"}


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_one_managed_node_group_the_tainted_system_pool(stacks: dict[str, Any], env: str) -> None:
    # Task capacity is Karpenter's (tests/test_placement.py); the managed group is the system pool only.
    (group,) = resources(stacks[env], "aws_eks_node_group").values()
    assert group["node_group_name"] == "system"
    assert group["labels"] == {"flightdeck.io/node-pool": "system"}
    assert group["taint"] == [{"key": "flightdeck.io/node-pool", "value": "system", "effect": "NO_SCHEDULE"}]


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_nodes_require_imdsv2_with_hop_limit_one(stacks: dict[str, Any], env: str) -> None:
    templates = resources(stacks[env], "aws_launch_template")
    assert len(templates) == len(resources(stacks[env], "aws_eks_node_group"))
    for template in templates.values():
        assert template["metadata_options"] == {
            "http_endpoint": "enabled",
            "http_tokens": "required",
            "http_put_response_hop_limit": 1,
        }
        assert template["block_device_mappings"][0]["ebs"]["encrypted"] == "true"


def test_system_node_group_sizes_follow_the_tier(stacks: dict[str, Any]) -> None:
    def system(env: str) -> dict[str, Any]:
        (group,) = resources(stacks[env], "aws_eks_node_group").values()
        return {**group["scaling_config"], "instance_types": group["instance_types"]}

    from flightdeck.tiers import AWS_TIERS

    from .conftest import fixture_configs

    for env in ENVIRONMENTS:
        config = fixture_configs()[env]
        group = config.cluster.node_groups.system
        assert system(env) == {
            "min_size": group.min_size, "desired_size": group.desired_size, "max_size": group.max_size,
            "instance_types": list(group.instance_types),
        }  # fmt: skip
        # Sizes come from the tier unless the file says otherwise (the fixture's prod grows its minimum for two Airflows).
        assert group.instance_types == AWS_TIERS[config.tier].cluster.node_groups.system.instance_types
    assert system("dev")["min_size"] == 1 and system("prod")["instance_types"] == ["m6i.2xlarge"]


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_one_pod_identity_role_per_airflow_component(stacks: dict[str, Any], env: str) -> None:
    associations = resources(stacks[env], "aws_eks_pod_identity_association").values()
    airflow = {(a["namespace"], a["service_account"]) for a in associations if a["namespace"] == "airflow"}
    assert airflow == {
        ("airflow", f"airflow-{c}") for c in ("scheduler", "api-server", "dag-processor", "triggerer", "worker")
    }
    roles = [a["role_arn"] for a in associations]
    assert len(set(roles)) == len(roles), "each service account has a role of its own"


def test_log_permissions_are_least_privilege(stacks: dict[str, Any]) -> None:
    policies = {p["role"]: json.loads(p["policy"]) for p in resources(stacks["prod"], "aws_iam_role_policy").values() if p["name"] == "task-logs"}
    actions_by_role = {
        role: {a for s in doc["Statement"] for a in s["Action"]} for role, doc in policies.items()
    }
    api_server = next(v for k, v in actions_by_role.items() if "api-server" in k)
    worker = next(v for k, v in actions_by_role.items() if "worker" in k)
    assert "s3:PutObject" not in api_server, "the API server only reads logs"
    assert "s3:PutObject" in worker
    for doc in policies.values():
        for statement in doc["Statement"]:
            assert "*" not in statement["Resource"]
            assert all(":*" not in action and action != "*" for action in statement["Action"])


def test_prod_database_is_multi_az_protected_and_keeps_a_final_snapshot(stacks: dict[str, Any]) -> None:
    db = only(stacks["prod"], "aws_db_instance")
    assert db["multi_az"] is True
    assert db["deletion_protection"] is True
    assert db["skip_final_snapshot"] is False
    assert db["final_snapshot_identifier"] == "flightdeck-prod-final"
    assert db["backup_retention_period"] == 30


def test_dev_database_is_single_zone_and_disposable(stacks: dict[str, Any]) -> None:
    db = only(stacks["dev"], "aws_db_instance")
    assert db["multi_az"] is False
    assert db["deletion_protection"] is False
    assert db["skip_final_snapshot"] is True
    assert db["backup_retention_period"] == 1


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_database_is_encrypted_private_and_password_managed_by_rds(stacks: dict[str, Any], env: str) -> None:
    stack = stacks[env]
    db = only(stack, "aws_db_instance")
    assert db["storage_encrypted"] is True
    assert db["publicly_accessible"] is False
    assert db["manage_master_user_password"] is True
    assert "password" not in db
    assert "database" in db["db_subnet_group_name"]
    (rule,) = [r for r in resources(stack, "aws_vpc_security_group_ingress_rule").values() if r["from_port"] == 5432]
    assert rule["from_port"] == rule["to_port"] == 5432
    assert "cluster_security_group_id" in rule["referenced_security_group_id"]
    assert "cidr_ipv4" not in rule
    parameters = {p["name"]: p["value"] for p in only(stack, "aws_db_parameter_group")["parameter"]}
    assert parameters["rds.force_ssl"] == "1"


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_log_bucket_is_versioned_kms_encrypted_private_and_tls_only(stacks: dict[str, Any], env: str) -> None:
    stack = stacks[env]
    assert only(stack, "aws_s3_bucket_versioning")["versioning_configuration"]["status"] == "Enabled"
    sse = only(stack, "aws_s3_bucket_server_side_encryption_configuration")["rule"][0]
    assert sse["apply_server_side_encryption_by_default"]["sse_algorithm"] == "aws:kms"
    block = only(stack, "aws_s3_bucket_public_access_block")
    assert all(block[k] is True for k in ("block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets"))
    (statement,) = json.loads(only(stack, "aws_s3_bucket_policy")["policy"])["Statement"]
    assert statement["Effect"] == "Deny"
    assert statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_log_expiry_follows_the_tier(stacks: dict[str, Any]) -> None:
    def expiry(env: str) -> int:
        return only(stacks[env], "aws_s3_bucket_lifecycle_configuration")["rule"][0]["expiration"][0]["days"]

    assert (expiry("dev"), expiry("qa"), expiry("prod")) == (14, 30, 365)


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_image_repository_scans_on_push_with_immutable_tags(stacks: dict[str, Any], env: str) -> None:
    repo = only(stacks[env], "aws_ecr_repository")
    assert repo["image_tag_mutability"] == "IMMUTABLE"
    assert repo["image_scanning_configuration"]["scan_on_push"] is True
    assert repo["name"] == f"flightdeck-{env}/airflow"


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_outputs_tell_an_operator_where_things_are(stacks: dict[str, Any], env: str) -> None:
    outputs = stacks[env]["output"]
    assert set(outputs) >= {"cluster_name", "kubeconfig_command", "database_endpoint", "log_bucket", "image_repository_url"}
    assert outputs["kubeconfig_command"]["value"] == f"aws eks update-kubeconfig --region eu-west-1 --name flightdeck-{env}"


def test_cluster_admins_are_keyed_by_role_name_not_by_position(stacks: dict[str, Any]) -> None:
    """Reordering ``cluster.admin_role_arns`` must change no address; removing one removes exactly its entry."""
    from .conftest import fixture_configs

    checked = 0
    for env, stack in stacks.items():
        arns = fixture_configs()[env].cluster.admin_role_arns
        entries = resources(stack, "aws_eks_access_entry")
        by_principal = {e["principal_arn"]: e["//"]["metadata"]["path"] for e in entries.values()}
        for arn in arns:
            assert by_principal[arn].endswith(f"/admin-{arn.rsplit('/', 1)[-1]}"), by_principal[arn]
            checked += 1
    assert checked, "the fixtures name cluster admins"

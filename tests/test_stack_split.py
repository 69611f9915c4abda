"""An environment's two stacks: the platform stack holds the cloud, the cluster stack what runs on the
cluster, and the one reads from the other only through outputs. And what reaches a private API
endpoint: the runner inside the VPC (CI) and, on request, a bastion (people)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from flightdeck import ci

from .conftest import REMOTE_OUTPUT, fixture_configs, load_stacks, platform_reads, resources

ENVIRONMENTS = ("dev", "qa", "prod")

CLOUD_PREFIXES = ("aws_", "google_", "random_")
CLUSTER_PREFIXES = ("kubernetes_", "helm_", "datadog_")



@pytest.fixture(scope="module")
def every_stack(synth_dir: Path, gke_dir: Path, existing_dir: Path) -> dict[str, dict[str, Any]]:
    """The fixture AWS environments and the copies of the GKE and existing-cluster examples: every cluster and platform stack."""
    stacks: dict[str, dict[str, Any]] = {}
    for label, outdir in (("aws", synth_dir), ("gke", gke_dir), ("existing", existing_dir)):
        for name, stack in load_stacks(outdir).items():
            if name != "bootstrap":
                stacks[f"{label}:{name}"] = stack
    return stacks


def test_each_environment_file_becomes_its_stacks_named_after_it(synth_dir: Path) -> None:
    manifest = json.loads((synth_dir / "manifest.json").read_text())["stacks"]
    for env, config in fixture_configs().items():
        assert config.stack_parts == ("platform", "cluster")
        assert manifest[f"{env}_platform"]["dependencies"] == []
        # The cluster stack depends on its platform stack only: cdktf deploys them in this order.
        assert manifest[f"{env}_cluster"]["dependencies"] == [f"{env}_platform"]
    assert sorted(manifest) == sorted(["bootstrap", *(f"{env}_{part}" for env in fixture_configs() for part in ("platform", "cluster"))])


def test_an_existing_cluster_is_one_stack(existing_dir: Path) -> None:
    manifest = json.loads((existing_dir / "manifest.json").read_text())["stacks"]
    assert {name: stack["dependencies"] for name, stack in manifest.items()} == {"dev_cluster": []}


def test_a_glob_of_one_environment_cannot_match_another() -> None:
    from flightdeck.config import SLUG_PATTERN

    # ``cdktf deploy 'prod_*'`` is safe because no environment name can contain the separator.
    assert not SLUG_PATTERN.match("prod_2")
    assert SLUG_PATTERN.match("prod-2")


def test_cluster_stacks_hold_no_cloud_resource(every_stack: dict[str, dict[str, Any]]) -> None:
    for name, stack in every_stack.items():
        if name.endswith("_cluster"):
            cloud = [t for block in ("resource", "data") for t in stack.get(block, {}) if t.startswith(CLOUD_PREFIXES)]
            assert cloud == [], name
            assert not {"aws", "google", "random"} & set(stack["provider"]), name


def test_platform_stacks_hold_nothing_that_runs_on_the_cluster(every_stack: dict[str, dict[str, Any]]) -> None:
    for name, stack in every_stack.items():
        if name.endswith("_platform"):
            assert [t for t in stack["resource"] if t.startswith(CLUSTER_PREFIXES)] == [], name
            assert not {"kubernetes", "helm", "datadog"} & set(stack["provider"]), name


def test_every_value_the_cluster_stack_takes_is_an_output_of_its_platform_stack(every_stack: dict[str, dict[str, Any]]) -> None:
    for name, cluster in every_stack.items():
        if not name.endswith("_cluster"):
            continue
        label, stack_name = name.split(":")
        env = stack_name.removesuffix("_cluster")
        reads = platform_reads(cluster)
        if label == "existing":
            # No other stack to read: its only data source is the in-cluster Airflow version record.
            assert reads == set() and set(cluster.get("data", {})) <= {"kubernetes_resources"}
            continue
        platform = every_stack[f"{label}:{env}_platform"]
        assert reads, f"{name} reads nothing from its platform stack"
        assert {stack for stack, _ in reads} == {f"{env}_platform"}, "only its own environment's platform"
        missing = {output for _, output in reads} - set(platform["output"])
        assert missing == set(), f"{name} reads outputs its platform stack does not have"
        # The remote state it reads is exactly where the platform stack keeps its state.
        (remote,) = cluster["data"]["terraform_remote_state"].values()
        (backend_type, backend), = platform["terraform"]["backend"].items()
        assert remote["backend"] == backend_type
        assert {k: v for k, v in remote["config"].items()} == {k: v for k, v in backend.items() if k != "use_lockfile"}


def test_no_reference_in_a_cluster_stack_points_into_another_stack(every_stack: dict[str, dict[str, Any]]) -> None:
    for name, stack in every_stack.items():
        if not name.endswith("_cluster"):
            continue
        text = REMOTE_OUTPUT.sub("remote", json.dumps(stack.get("resource", {})))
        assert not any(f"${{{prefix}" in text or f"\"{prefix}" in text for prefix in CLOUD_PREFIXES), name
        own = {f"{t}.{n}" for t, rs in stack.get("resource", {}).items() for n in rs}
        for instances in stack.get("resource", {}).values():
            for body in instances.values():
                assert set(body.get("depends_on", [])) <= own, f"{name}: depends_on outside the stack"


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_each_stack_keeps_its_own_state_under_the_environment_prefix(synthesized: dict[str, Any], env: str) -> None:
    for part in ("platform", "cluster"):
        backend = synthesized[f"{env}_{part}"]["terraform"]["backend"]["s3"]
        assert backend["bucket"] == fixture_configs()[env].state.bucket
        assert backend["key"] == f"flightdeck/{env}/{part}/terraform.tfstate"
        assert backend["encrypt"] is True and backend["use_lockfile"] is True


def test_gke_stacks_keep_state_per_stack(gke_dir: Path) -> None:
    stacks = load_stacks(gke_dir)
    assert stacks["prod_platform"]["terraform"]["backend"]["gcs"]["prefix"] == "flightdeck/prod/platform"
    assert stacks["prod_cluster"]["terraform"]["backend"]["gcs"]["prefix"] == "flightdeck/prod/cluster"


def test_gke_is_reached_through_its_dns_endpoint_by_iam(gke_dir: Path, gke_stacks: dict[str, Any]) -> None:
    stacks = load_stacks(gke_dir)
    for env in ("dev", "qa", "prod"):
        (cluster,) = resources(stacks[f"{env}_platform"], "google_container_cluster").values()
        assert cluster["control_plane_endpoints_config"]["dns_endpoint_config"]["allow_external_traffic"] is True
        # The IP endpoint stays private: the DNS endpoint admits only principals allowed to connect.
        assert cluster["private_cluster_config"]["enable_private_endpoint"] is True
        (kubernetes,) = gke_stacks[env]["provider"]["kubernetes"]
        (logical,) = resources(stacks[f"{env}_platform"], "google_container_cluster")
        dns = f"google_container_cluster.{logical}.control_plane_endpoints_config[0].dns_endpoint_config[0].endpoint"
        assert kubernetes["host"] == f"https://${{{dns}}}"
        assert "cluster_ca_certificate" not in kubernetes, "the DNS endpoint's certificate is publicly trusted"
        assert stacks[f"{env}_platform"]["output"]["kubeconfig_command"]["value"].endswith(" --dns-endpoint")


# The runner inside the VPC


def runner_of(stack: dict[str, Any]) -> dict[str, Any]:
    (project,) = resources(stack, "aws_codebuild_project").values()
    return project


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_the_runner_lives_in_the_environments_own_private_subnets(synthesized: dict[str, Any], env: str) -> None:
    stack = synthesized[f"{env}_platform"]
    config = fixture_configs()[env]
    project = runner_of(stack)
    assert project["name"] == ci.runner_project(config)
    private = {f"${{aws_subnet.{logical}.id}}" for logical, s in resources(stack, "aws_subnet").items() if "private" in s["tags"]["Name"]}
    (vpc,) = resources(stack, "aws_vpc")
    assert set(project["vpc_config"]["subnets"]) == private and len(private) == config.network.availability_zones
    assert project["vpc_config"]["vpc_id"] == f"${{aws_vpc.{vpc}.id}}"
    assert project["source"] == {"type": "GITHUB", "location": "https://github.com/example-org/flightdeck.git"}
    assert project["environment"]["privileged_mode"] is False
    assert project["concurrent_build_limit"] == 1


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_the_runner_may_open_https_only_and_the_cluster_api_lets_it_in(synthesized: dict[str, Any], env: str) -> None:
    stack = synthesized[f"{env}_platform"]
    (group_ref,) = runner_of(stack)["vpc_config"]["security_group_ids"]
    egress = [r for r in resources(stack, "aws_vpc_security_group_egress_rule").values() if r["security_group_id"] == group_ref]
    assert [(r["ip_protocol"], r["from_port"], r["to_port"]) for r in egress] == [("tcp", 443, 443)]
    assert not [g for g in resources(stack, "aws_security_group").values() if g.get("egress") or g.get("ingress")]
    (api,) = [r for r in resources(stack, "aws_vpc_security_group_ingress_rule").values() if r["referenced_security_group_id"] == group_ref]
    assert "cluster_security_group_id" in api["security_group_id"] and api["from_port"] == api["to_port"] == 443
    database = [r for r in resources(stack, "aws_vpc_security_group_ingress_rule").values() if r["from_port"] == 5432]
    assert all(r["referenced_security_group_id"] != group_ref for r in database), "the runner never reaches the database"


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_the_runners_own_role_can_only_log_attach_to_the_vpc_and_use_the_connection(synthesized: dict[str, Any], env: str) -> None:
    stack = synthesized[f"{env}_platform"]
    project = runner_of(stack)
    (role_id, role) = next((k, r) for k, r in resources(stack, "aws_iam_role").items() if project["service_role"] == f"${{aws_iam_role.{k}.arn}}")
    assert role["name"].startswith(f"flightdeck-{env}-"), "inside the prefix the environment's deployer manages"
    (trust,) = json.loads(role["assume_role_policy"])["Statement"]
    assert trust["Principal"] == {"Service": "codebuild.amazonaws.com"}
    assert trust["Condition"] == {"StringEquals": {"aws:SourceAccount": fixture_configs()[env].aws.account_id}}
    assert not [a for a in resources(stack, "aws_iam_role_policy_attachment").values() if role_id in a["role"]], "no managed policy"
    (policy,) = [p for p in resources(stack, "aws_iam_role_policy").values() if role_id in p["role"]]
    actions = {a for s in json.loads(policy["policy"])["Statement"] for a in s["Action"]}
    assert {a.split(":")[0] for a in actions} == {"logs", "ec2", "codeconnections", "kms"}
    assert not [a for a in actions if a.startswith("ec2:") and "NetworkInterface" not in a and not a.startswith("ec2:Describe")]
    assert "logs:CreateLogGroup" not in actions and not [a for a in actions if a.endswith("*")]
    statements = json.loads(policy["policy"])["Statement"]
    (kms,) = [s for s in statements if s["Action"][0].startswith("kms:")]
    assert kms["Condition"] == {"StringEquals": {"kms:ViaService": f"codebuild.{fixture_configs()[env].aws.region}.amazonaws.com"}}


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_only_this_repositorys_deploy_workflow_starts_the_runner(synthesized: dict[str, Any], env: str) -> None:
    stack = synthesized[f"{env}_platform"]
    (webhook,) = resources(stack, "aws_codebuild_webhook").values()
    (group,) = webhook["filter_group"]
    assert {f["type"]: f["pattern"] for f in group["filter"]} == {"EVENT": "WORKFLOW_JOB_QUEUED", "WORKFLOW_NAME": f"^{ci.WORKFLOW_NAME}$"}


def test_synthesis_leaves_exactly_this_runs_stacks(workstation: tuple[Path, dict[str, dict[str, Any]]]) -> None:
    outdir, stacks = workstation
    assert sorted(stacks) == ["sandbox_cluster", "sandbox_platform"], "the older run's single stack is gone"
    assert sorted(p.name for p in (outdir / "stacks").iterdir()) == ["sandbox_cluster", "sandbox_platform"]


def test_without_ci_settings_there_is_no_runner(workstation: tuple[Path, dict[str, dict[str, Any]]]) -> None:
    _, stacks = workstation
    assert resources(stacks["sandbox_platform"], "aws_codebuild_project") == {}, "no bootstrap.yaml next to the folder: no CI"


def test_a_bastion_forwards_a_workstations_port_to_the_private_endpoint(workstation: tuple[Path, dict[str, dict[str, Any]]]) -> None:
    _, stacks = workstation
    stack = stacks["sandbox_platform"]
    (instance,) = resources(stack, "aws_instance").values()
    assert instance["associate_public_ip_address"] is False and "key_name" not in instance
    assert instance["metadata_options"] == {"http_endpoint": "enabled", "http_tokens": "required", "http_put_response_hop_limit": 1}
    assert instance["root_block_device"]["encrypted"] is True
    private = {f"${{aws_subnet.{k}.id}}" for k, s in resources(stack, "aws_subnet").items() if "private" in s["tags"]["Name"]}
    assert instance["subnet_id"] in private
    (group_ref,) = instance["vpc_security_group_ids"]
    # No inbound rule at all: Session Manager is reached from inside, through the agent's HTTPS connection.
    assert not [r for r in resources(stack, "aws_vpc_security_group_ingress_rule").values() if r["security_group_id"] == group_ref]
    egress = [r for r in resources(stack, "aws_vpc_security_group_egress_rule").values() if r["security_group_id"] == group_ref]
    assert [(r["from_port"], r["to_port"]) for r in egress] == [(443, 443)]
    (api,) = [r for r in resources(stack, "aws_vpc_security_group_ingress_rule").values() if r.get("referenced_security_group_id") == group_ref]
    assert "cluster_security_group_id" in api["security_group_id"]
    (attachment,) = [a for a in resources(stack, "aws_iam_role_policy_attachment").values() if "bastion" in a["role"]]
    assert attachment["policy_arn"] == "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"
    command = stack["output"]["bastion_port_forward_command"]["value"]
    assert "AWS-StartPortForwardingSessionToRemoteHost" in command and "portNumber=443" in command


def test_a_dev_endpoint_may_be_public_with_its_allow_list(workstation: tuple[Path, dict[str, dict[str, Any]]]) -> None:
    _, stacks = workstation
    (cluster,) = resources(stacks["sandbox_platform"], "aws_eks_cluster").values()
    assert cluster["vpc_config"]["endpoint_public_access"] is True
    assert cluster["vpc_config"]["public_access_cidrs"] == ["203.0.113.0/24"]


def test_the_bootstrap_makes_each_accounts_github_connection_for_codebuild(bootstrap: dict[str, Any]) -> None:
    connections = resources(bootstrap, "aws_codeconnections_connection")
    credentials = resources(bootstrap, "aws_codebuild_source_credential")
    regions = {(c.aws.account_id, c.aws.region) for c in fixture_configs().values()}
    assert len(connections) == len(credentials) == len(regions)
    for logical, connection in connections.items():
        assert connection["provider_type"] == "GitHub"
        (credential,) = [c for c in credentials.values() if c["token"] == f"${{aws_codeconnections_connection.{logical}.arn}}"]
        assert credential["auth_type"] == "CODECONNECTIONS" and credential["server_type"] == "GITHUB"
        assert credential["provider"] == connection["provider"], "the same account and region"
    assert set(bootstrap["output"]["github_connections"]["value"]) == {f"{a}/{r}" for a, r in regions}

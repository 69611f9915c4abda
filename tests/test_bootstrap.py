"""The bootstrap stack: state buckets and CI roles that exist before any environment's first deploy."""

from __future__ import annotations

import fnmatch
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from flightdeck import ci
from flightdeck.errors import ConfigError
from flightdeck.loader import bootstrap_path, load_bootstrap

from .conftest import BOOTSTRAP, ENVIRONMENTS, fixture_configs, load_stacks, resources, run_main

pytestmark = pytest.mark.synth


def bootstrap_config() -> Any:
    return load_bootstrap(BOOTSTRAP, list(fixture_configs().values()))


def provider_account(bootstrap: dict[str, Any], body: dict[str, Any]) -> str:
    """The account a resource is created in: its aliased provider's only allowed account."""
    alias = body["provider"].removeprefix("aws.")
    (provider,) = [p for p in bootstrap["provider"]["aws"] if p["alias"] == alias]
    (account,) = provider["allowed_account_ids"]
    return str(account)


def by_name(bootstrap: dict[str, Any], resource_type: str, attribute: str = "name") -> dict[str, dict[str, Any]]:
    return {body[attribute]: body for body in resources(bootstrap, resource_type).values()}


def test_bootstrap_is_its_own_stack_next_to_the_environments(synth_dir: Path, bootstrap: dict[str, Any]) -> None:
    expected = [c.stack_name(part) for c in fixture_configs().values() for part in c.stack_parts]
    assert sorted(load_stacks(synth_dir)) == sorted([*expected, "bootstrap"])
    assert bootstrap_path(ENVIRONMENTS) == BOOTSTRAP
    assert "bootstrap" not in {p.stem for p in ENVIRONMENTS.glob("*.yaml")}
    backend = bootstrap["terraform"]["backend"]["s3"]
    assert backend["bucket"] == bootstrap_config().state.bucket
    assert backend["key"] == "flightdeck/bootstrap/terraform.tfstate"
    assert backend["use_lockfile"] is True and backend["encrypt"] is True


def test_each_environment_state_bucket_is_created_in_its_account(bootstrap: dict[str, Any]) -> None:
    buckets = by_name(bootstrap, "aws_s3_bucket", "bucket")
    assert sorted(buckets) == sorted({c.state.bucket for c in fixture_configs().values()})
    for config in fixture_configs().values():
        assert provider_account(bootstrap, buckets[config.state.bucket]) == config.aws.account_id


def test_state_buckets_are_versioned_encrypted_private_tls_only_and_kept(bootstrap: dict[str, Any]) -> None:
    buckets = resources(bootstrap, "aws_s3_bucket")
    assert len(buckets) == 3
    for logical, body in buckets.items():
        ref = f"${{aws_s3_bucket.{logical}.id}}"

        def attached(resource_type: str, ref: str = ref) -> dict[str, Any]:
            (found,) = [b for b in resources(bootstrap, resource_type).values() if b["bucket"] == ref]
            return found

        assert body["lifecycle"] == {"prevent_destroy": True}
        assert attached("aws_s3_bucket_versioning")["versioning_configuration"]["status"] == "Enabled"
        (rule,) = attached("aws_s3_bucket_server_side_encryption_configuration")["rule"]
        default = rule["apply_server_side_encryption_by_default"]
        assert default["sse_algorithm"] == "aws:kms" and default["kms_master_key_id"].startswith("${aws_kms_key.")
        block = attached("aws_s3_bucket_public_access_block")
        assert all(block[k] is True for k in ("block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets"))
        (deny,) = json.loads(attached("aws_s3_bucket_policy")["policy"])["Statement"]
        assert deny["Effect"] == "Deny" and deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
        (lifecycle,) = attached("aws_s3_bucket_lifecycle_configuration")["rule"]
        assert "expiration" not in lifecycle, "current state must never expire"
        assert lifecycle["noncurrent_version_expiration"][0]["noncurrent_days"] >= 30
    for key in resources(bootstrap, "aws_kms_key").values():
        assert key["enable_key_rotation"] is True


def test_one_github_oidc_provider_per_account(bootstrap: dict[str, Any]) -> None:
    providers = resources(bootstrap, "aws_iam_openid_connect_provider").values()
    assert sorted(provider_account(bootstrap, p) for p in providers) == sorted({c.aws.account_id for c in fixture_configs().values()})
    for provider in providers:
        assert provider["url"] == "https://token.actions.githubusercontent.com"
        assert provider["client_id_list"] == ["sts.amazonaws.com"]


def trust_of(role: dict[str, Any]) -> dict[str, Any]:
    (statement,) = json.loads(role["assume_role_policy"])["Statement"]
    return statement


def test_deployer_trusts_only_its_github_environment_in_this_repository(bootstrap: dict[str, Any]) -> None:
    roles = by_name(bootstrap, "aws_iam_role")
    oidc = {logical: p for logical, p in resources(bootstrap, "aws_iam_openid_connect_provider").items()}
    repository = bootstrap_config().github.repository
    for config in fixture_configs().values():
        role = roles[ci.deployer_role_name(config)]
        statement = trust_of(role)
        assert statement["Action"] == "sts:AssumeRoleWithWebIdentity"
        assert statement["Condition"] == {
            "StringEquals": {
                "token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
                "token.actions.githubusercontent.com:sub": [f"repo:{repository}:environment:{config.name}"],
            }
        }
        # The federated principal is the OIDC provider of the role's own account.
        federated = statement["Principal"]["Federated"].removeprefix("${aws_iam_openid_connect_provider.").removesuffix(".arn}")
        assert provider_account(bootstrap, oidc[federated]) == provider_account(bootstrap, role) == config.aws.account_id


def test_planner_is_for_pull_requests_and_the_default_branch_and_reads_only(bootstrap: dict[str, Any]) -> None:
    roles = by_name(bootstrap, "aws_iam_role")
    repository = bootstrap_config().github.repository
    for config in fixture_configs().values():
        name = ci.planner_role_name(config)
        subjects = trust_of(roles[name])["Condition"]["StringEquals"]["token.actions.githubusercontent.com:sub"]
        assert subjects == [f"repo:{repository}:pull_request", f"repo:{repository}:ref:refs/heads/main"]
        attached, policy = policies_of(bootstrap, name)
        assert attached == [], "no managed read policy: ReadOnlyAccess reads every bucket's objects"
        writes = [s for s in allows(policy) if any(a.startswith(("s3:Put", "s3:Delete")) for a in s["Action"])]
        assert [r for s in writes for r in s["Resource"]] == [
            f"${{aws_s3_bucket.{bucket_id(bootstrap, config.state.bucket)}.arn}}/flightdeck/{config.name}/*.tflock"
        ], "a planner writes nothing but its state lock"


def logical_id(bootstrap: dict[str, Any], role_name: str) -> str:
    (found,) = [k for k, v in resources(bootstrap, "aws_iam_role").items() if v["name"] == role_name]
    return found


def policies_of(bootstrap: dict[str, Any], role_name: str) -> tuple[list[str], dict[str, Any]]:
    """A role's attached managed policy ARNs and its one inline policy document."""
    role_ref = f"${{aws_iam_role.{logical_id(bootstrap, role_name)}"
    attached = [a["policy_arn"] for a in resources(bootstrap, "aws_iam_role_policy_attachment").values() if a["role"].startswith(role_ref)]
    (inline,) = [json.loads(p["policy"]) for p in resources(bootstrap, "aws_iam_role_policy").values() if p["role"].startswith(role_ref)]
    return attached, inline


def allows(policy: dict[str, Any]) -> list[dict[str, Any]]:
    return [s for s in policy["Statement"] if s["Effect"] == "Allow"]


def iam_reach(bootstrap: dict[str, Any], config: Any) -> list[str]:
    """The IAM resource patterns the environment's deployer may manage."""
    _, policy = policies_of(bootstrap, ci.deployer_role_name(config))
    return [r for s in allows(policy) if "iam:PassRole" in s["Action"] for r in s["Resource"]]


def bucket_id(bootstrap: dict[str, Any], bucket: str) -> str:
    (found,) = [k for k, v in resources(bootstrap, "aws_s3_bucket").items() if v["bucket"] == bucket]
    return found


def test_deployer_manages_only_its_environments_iam_and_not_itself(bootstrap: dict[str, Any]) -> None:
    all_roles = [
        f"arn:aws:iam::{c.aws.account_id}:role/{name}"
        for c in fixture_configs().values()
        for name in (ci.deployer_role_name(c), ci.planner_role_name(c), f"{c.resource_prefix}-scheduler")
    ]
    for config in fixture_configs().values():
        attached, _ = policies_of(bootstrap, ci.deployer_role_name(config))
        assert attached == ["arn:aws:iam::aws:policy/PowerUserAccess"]
        writable = iam_reach(bootstrap, config)
        reachable = [arn for arn in all_roles if any(fnmatch.fnmatch(arn, pattern) for pattern in writable)]
        assert reachable == [f"arn:aws:iam::{config.aws.account_id}:role/{config.resource_prefix}-scheduler"]


def test_deployer_may_manage_every_role_its_environment_creates(stacks: dict[str, Any], bootstrap: dict[str, Any]) -> None:
    for env, stack in stacks.items():
        config = fixture_configs()[env]
        writable = iam_reach(bootstrap, config)
        for role in resources(stack, "aws_iam_role").values():
            arn = f"arn:aws:iam::{config.aws.account_id}:role/{role['name']}"
            assert any(fnmatch.fnmatch(arn, pattern) for pattern in writable), f"{env}: the deployer cannot manage {arn}"


def test_deploys_may_take_two_hours(bootstrap: dict[str, Any]) -> None:
    roles = by_name(bootstrap, "aws_iam_role")
    assert {roles[ci.deployer_role_name(c)]["max_session_duration"] for c in fixture_configs().values()} == {7200}


@pytest.fixture
def one_environment(tmp_path: Path) -> Path:
    """dev alone, with a bootstrap.yaml that keeps its state in dev's bucket."""
    return _one_environment(tmp_path)


def _one_environment(root: Path) -> Path:
    """dev alone in ``root``, with a bootstrap.yaml that keeps its state in dev's bucket."""
    environments = root / "environments"
    environments.mkdir()
    shutil.copy(ENVIRONMENTS / "dev.yaml", environments)
    data = yaml.safe_load((BOOTSTRAP).read_text())
    data["state"]["bucket"] = fixture_configs()["dev"].state.bucket
    (root / "bootstrap.yaml").write_text(yaml.safe_dump(data))
    return environments


@pytest.fixture(scope="module")
def first_bootstrap_deploy(qa_first_deploy: Path) -> dict[str, dict[str, Any]]:
    """qa alone with its bootstrap, synthesized as for the first deploy (``FLIGHTDECK_BOOTSTRAP_STATE=local``;
    ``qa_first_deploy`` in conftest, where qa also has a team fewer)."""
    return load_stacks(qa_first_deploy)


def test_first_deploy_keeps_the_bootstrap_state_local(first_bootstrap_deploy: dict[str, dict[str, Any]]) -> None:
    synthesized = first_bootstrap_deploy
    assert sorted(synthesized) == ["bootstrap", "qa_cluster", "qa_platform"]
    assert synthesized["bootstrap"]["terraform"]["backend"] == {"local": {"path": "bootstrap.tfstate"}}
    assert len(resources(synthesized["bootstrap"], "aws_s3_bucket")) == 1, "only the folder's environments are prepared"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {"state": {"bucket": "somewhere-else", "region": "eu-west-1"}},
            "state.bucket: 'somewhere-else' is not a bucket the bootstrap creates; "
            "use one of the environments' state buckets (flightdeck-tfstate-111111111111)",
        ),
        ({"github": {"repository": "no-slash"}}, "github.repository: String should match pattern"),
        ({"gitlab": {}}, "gitlab: unknown key; expected one of: project, owner, cost_center, github, aws, state"),
    ],
)
def test_bad_bootstrap_file_is_reported_with_file_and_field(
    one_environment: Path, tmp_path: Path, change: dict[str, Any], message: str
) -> None:
    path = tmp_path / "bootstrap.yaml"
    path.write_text(yaml.safe_dump({**yaml.safe_load(path.read_text()), **change}))
    result = run_main(tmp_path / "out", environments=one_environment)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.startswith(f"flightdeck: {path}: {message}")
    assert not (tmp_path / "out").exists()


def test_unknown_bootstrap_state_location_is_refused(one_environment: Path, tmp_path: Path) -> None:
    result = run_main(tmp_path / "out", environments=one_environment, FLIGHTDECK_BOOTSTRAP_STATE="s4")
    assert result.returncode == 2
    assert result.stderr == (
        "flightdeck: FLIGHTDECK_BOOTSTRAP_STATE: 's4' is not a state location; use 'local' for the first deploy, or unset it\n"
    )


def test_loader_refuses_a_source_key(tmp_path: Path) -> None:
    path = tmp_path / "bootstrap.yaml"
    path.write_text((BOOTSTRAP).read_text() + "source: elsewhere\n")
    with pytest.raises(ConfigError, match="source: unknown key"):
        load_bootstrap(path, list(fixture_configs().values()))


def test_ci_roles_reach_exactly_the_state_key_each_environment_uses(stacks: dict[str, Any], bootstrap: dict[str, Any]) -> None:
    for env, stack in stacks.items():
        config = fixture_configs()[env]
        key = stack["terraform"]["backend"]["s3"]["key"]
        bucket = f"${{aws_s3_bucket.{bucket_id(bootstrap, config.state.bucket)}.arn}}"
        for role in (ci.deployer_role_name(config), ci.planner_role_name(config)):
            _, policy = policies_of(bootstrap, role)
            readable = [r for s in allows(policy) if "s3:GetObject" in s["Action"] for r in s["Resource"]]
            assert any(fnmatch.fnmatch(f"{bucket}/{key}", pattern) for pattern in readable), f"{role} cannot read {key}"
            assert not any(fnmatch.fnmatch(f"{bucket}/flightdeck/other/terraform.tfstate", p) for p in readable)

"""What the CI identities can and cannot do: the deployer, the planner and the boundary of their roles.

No rung of the ladder runs IAM's policy evaluation, so these tests evaluate the documents
(``tests/iam_eval.py``) for the requests an attacker holding the deployer's or the planner's
credentials would make, and check the synthesized stacks against each other: every role an
environment creates carries the boundary its deployer requires, and the boundary still lets
each of those roles do what its own policies say.
"""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Iterator
from typing import Any

import pytest

from flightdeck import ci
from platform_constructs.aws.ci_policies import (
    ADMINISTRATOR_POLICIES,
    BOUNDED_SERVICES,
    PLAN_READS,
    CiScope,
    boundary_policy,
    deployer_policy,
    planner_policy,
)
from platform_constructs.aws.iam import ATTACHABLE_MANAGED_POLICIES, managed_policy
from platform_constructs.aws.kms import KmsKeyHandle
from verify.iam_report import POWER_USER_ACCESS

from .conftest import fixture_configs, resources
from .iam_eval import decide, statement_applies, statements

ACCOUNT = "123456789012"
IAM = f"arn:aws:iam::{ACCOUNT}"
STATE = "arn:aws:s3:::acme-tfstate-123456789012"
SCOPE = CiScope(
    name="live",
    account_id=ACCOUNT,
    manages_prefix="acme-live-",
    ci_prefix="acme-ci-",
    boundary_name="acme-ci-live-boundary",
    bucket_names=["task-logs-live"],
    image_repository="acme-live/airflow",
    state_bucket_arn=STATE,
    state_prefix="acme/live/",
    state_key=KmsKeyHandle(arn=f"arn:aws:kms:eu-west-1:{ACCOUNT}:key/state", key_id="state"),
    environment_tag=("env", "live"),
)
BOUNDARY = f"{IAM}:policy/acme-ci-live-boundary"
DEPLOYER: list[str | dict[str, Any]] = [POWER_USER_ACCESS, deployer_policy(SCOPE)]
PLANNER = [planner_policy(SCOPE)]
WITH_BOUNDARY = {"iam:PermissionsBoundary": BOUNDARY}


def deployer(action: str, resource: str, **context: str) -> str:
    return decide(DEPLOYER, action, resource, context)


def planner(action: str, resource: str, **context: str) -> str:
    return decide(PLANNER, action, resource, context)


# The escalation paths of the review, one by one.


def test_a_role_without_the_boundary_cannot_be_created() -> None:
    assert deployer("iam:CreateRole", f"{IAM}:role/acme-live-x") == "deny"
    assert deployer("iam:CreateRole", f"{IAM}:role/acme-live-x", **{"iam:PermissionsBoundary": f"{IAM}:policy/acme-live-open"}) == "deny"
    assert deployer("iam:CreateRole", f"{IAM}:role/acme-live-x", **WITH_BOUNDARY) == "allow"
    assert deployer("iam:CreateRole", f"{IAM}:role/elsewhere", **WITH_BOUNDARY) == "implicit"


def test_policies_reach_only_roles_that_carry_the_boundary() -> None:
    role = f"{IAM}:role/acme-live-scheduler"
    for action in ("iam:PutRolePolicy", "iam:DeleteRolePolicy", "iam:DetachRolePolicy"):
        assert deployer(action, role) == "implicit", f"{action} on a role without the boundary"
        assert deployer(action, role, **WITH_BOUNDARY) == "allow"
    eks = managed_policy("aws", "AmazonEKSClusterPolicy")
    assert deployer("iam:AttachRolePolicy", role, **WITH_BOUNDARY, **{"iam:PolicyARN": eks}) == "allow"
    assert deployer("iam:AttachRolePolicy", role, **{"iam:PolicyARN": eks}) == "implicit"
    own = f"{IAM}:policy/acme-live-anything"
    assert deployer("iam:AttachRolePolicy", role, **WITH_BOUNDARY, **{"iam:PolicyARN": own}) == "implicit", "only the listed managed policies"


@pytest.mark.parametrize("name", ADMINISTRATOR_POLICIES)
def test_no_administrator_policy_can_be_attached_anywhere(name: str) -> None:
    arn = managed_policy("aws", name)
    for resource in (f"{IAM}:role/acme-live-scheduler", f"{IAM}:user/someone", f"{IAM}:group/admins"):
        action = "iam:Attach" + resource.split(":")[-1].split("/")[0].capitalize() + "Policy"
        assert deployer(action, resource, **WITH_BOUNDARY, **{"iam:PolicyARN": arn}) == "deny"


def test_the_boundary_cannot_be_removed_replaced_or_edited() -> None:
    role = f"{IAM}:role/acme-live-scheduler"
    assert deployer("iam:DeleteRolePermissionsBoundary", role) == "deny"
    assert deployer("iam:PutRolePermissionsBoundary", role, **{"iam:PermissionsBoundary": f"{IAM}:policy/other"}) == "deny"
    for action in ("iam:CreatePolicyVersion", "iam:SetDefaultPolicyVersion", "iam:DeletePolicy"):
        assert deployer(action, BOUNDARY) == "deny"


@pytest.mark.parametrize("action", ["iam:UpdateAssumeRolePolicy", "iam:PutRolePolicy", "iam:AttachRolePolicy", "iam:DeleteRole", "iam:TagRole"])
def test_the_ci_roles_and_the_oidc_provider_cannot_be_changed(action: str) -> None:
    for target in (f"{IAM}:role/acme-ci-live-deploy", f"{IAM}:role/acme-ci-qa-plan"):
        assert deployer(action, target, **WITH_BOUNDARY) == "deny"
    assert deployer("iam:UpdateOpenIDConnectProviderThumbprint", f"{IAM}:oidc-provider/token.actions.githubusercontent.com") == "deny"


def test_roles_are_passed_only_to_the_services_that_run_them() -> None:
    role = f"{IAM}:role/acme-live-node"
    assert deployer("iam:PassRole", role, **{"iam:PassedToService": "eks.amazonaws.com"}) == "allow"
    assert deployer("iam:PassRole", role, **{"iam:PassedToService": "lambda.amazonaws.com"}) == "implicit"
    assert deployer("iam:PassRole", f"{IAM}:role/acme-ci-live-deploy", **{"iam:PassedToService": "ec2.amazonaws.com"}) == "deny"


def test_state_outside_the_prefix_and_its_history_are_out_of_reach() -> None:
    assert deployer("s3:GetObject", f"{STATE}/acme/live/platform/terraform.tfstate") == "allow"
    assert deployer("s3:PutObject", f"{STATE}/acme/live/cluster/terraform.tfstate.tflock") == "allow"
    for key in ("acme/qa/platform/terraform.tfstate", "acme/bootstrap/terraform.tfstate", "acme/live-2/x"):
        for action in ("s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:GetObjectVersion"):
            assert deployer(action, f"{STATE}/{key}") == "deny", f"{action} {key}"
    assert deployer("s3:DeleteObjectVersion", f"{STATE}/acme/live/platform/terraform.tfstate") == "deny", "old versions stay"
    assert deployer("s3:ListBucket", STATE, **{"s3:prefix": "acme/live/"}) == "allow"
    assert deployer("s3:ListBucket", STATE, **{"s3:prefix": "acme/"}) == "deny"
    for action in ("s3:PutBucketPolicy", "s3:DeleteBucket", "s3:PutBucketVersioning", "s3:PutLifecycleConfiguration"):
        assert deployer(action, STATE) == "deny"


def test_the_state_key_cannot_be_administered() -> None:
    key = SCOPE.state_key.arn
    assert deployer("kms:Decrypt", key) == "allow"
    for action in ("kms:PutKeyPolicy", "kms:ScheduleKeyDeletion", "kms:DisableKey", "kms:CreateGrant"):
        assert deployer(action, key, **{"aws:ResourceTag/env": "live"}) == "deny"


def test_resource_policies_are_written_only_on_the_environments_own_resources() -> None:
    region = f"eu-west-1:{ACCOUNT}"
    own = {
        "s3:PutBucketPolicy": ["arn:aws:s3:::acme-live-airflow-logs", "arn:aws:s3:::task-logs-live"],
        "ecr:SetRepositoryPolicy": [f"arn:aws:ecr:{region}:repository/acme-live/airflow"],
        "sqs:SetQueueAttributes": [f"arn:aws:sqs:{region}:acme-live"],
        "secretsmanager:PutResourcePolicy": [f"arn:aws:secretsmanager:{region}:secret:acme-live-x-AbCdEf"],
    }
    foreign = {
        "s3:PutBucketPolicy": ["arn:aws:s3:::example-analytics-data", "arn:aws:s3:::acme-qa-airflow-logs"],
        "ecr:SetRepositoryPolicy": [f"arn:aws:ecr:{region}:repository/acme-qa/airflow"],
        "sqs:SetQueueAttributes": [f"arn:aws:sqs:{region}:acme-qa", f"arn:aws:sqs:{region}:acme-live2"],
        "secretsmanager:PutResourcePolicy": [f"arn:aws:secretsmanager:{region}:secret:teams/analytics/warehouse-AbCdEf"],
    }
    for action, arns in own.items():
        assert all(deployer(action, arn) == "allow" for arn in arns), action
    for action, arns in foreign.items():
        assert all(deployer(action, arn) == "deny" for arn in arns), action
    key = f"arn:aws:kms:eu-west-1:{ACCOUNT}:key/1234"
    assert deployer("kms:PutKeyPolicy", key, **{"aws:ResourceTag/env": "live"}) == "allow"
    assert deployer("kms:PutKeyPolicy", key, **{"aws:ResourceTag/env": "qa"}) == "deny"
    assert deployer("kms:PutKeyPolicy", key) == "deny", "an untagged key is not the environment's"
    assert deployer("kms:TagResource", key, **{"aws:ResourceTag/env": "qa"}) == "deny", "no claiming another key"
    assert deployer("kms:CreateGrant", key, **{"aws:ResourceTag/env": "qa", "kms:GrantIsForAWSResource": "false"}) == "deny"
    # EC2 creating a grant on the account's default EBS key for the bastion's volume, on the deployer's behalf.
    assert deployer("kms:CreateGrant", key, **{"kms:GrantIsForAWSResource": "true"}) == "allow"


def test_the_deployer_reads_no_data_and_no_secret_values() -> None:
    assert deployer("ssm:GetParameter", f"arn:aws:ssm:eu-west-1:{ACCOUNT}:parameter/db/password") == "deny"
    assert deployer("ssm:GetParameter", "arn:aws:ssm:eu-west-1::parameter/aws/service/eks/optimized-ami/1.33/x") == "allow"
    assert deployer("s3:GetObject", "arn:aws:s3:::example-analytics-data/curated/x.parquet") == "deny"
    assert deployer("s3:GetObject", "arn:aws:s3:::acme-live-airflow-logs/dag_id=x/attempt=1.log") == "allow"
    assert deployer("secretsmanager:GetSecretValue", f"arn:aws:secretsmanager:eu-west-1:{ACCOUNT}:secret:teams/x-AbCdEf") == "deny"


def test_only_the_environment_reads_and_writes_its_own_downgrade_records() -> None:
    """The Airflow version each database was migrated to (``schema_guard``): another environment's deployer
    rewriting it would lift that environment's downgrade refusal."""
    own = f"arn:aws:ssm:eu-west-1:{ACCOUNT}:parameter/acme-live-airflow-schema/acme-live"
    path = f"arn:aws:ssm:eu-west-1:{ACCOUNT}:parameter/acme-live-airflow-schema"
    other = f"arn:aws:ssm:eu-west-1:{ACCOUNT}:parameter/acme-prod-airflow-schema/acme-prod"
    assert planner("ssm:GetParametersByPath", path) == "allow" and planner("ssm:GetParameter", own) == "allow"
    assert planner("ssm:GetParametersByPath", f"arn:aws:ssm:eu-west-1:{ACCOUNT}:parameter/acme-prod-airflow-schema") != "allow"
    assert planner("ssm:PutParameter", own) != "allow", "a plan writes nothing"
    assert deployer("ssm:GetParametersByPath", path) == "allow" and deployer("ssm:PutParameter", own) == "allow"
    assert deployer("ssm:PutParameter", other) == "deny" and deployer("ssm:DeleteParameter", other) == "deny"
    assert deployer("ssm:GetParameter", other) == "deny"


def test_no_code_runs_as_a_role_the_deployer_did_not_make() -> None:
    """PowerUserAccess alone lets one change an existing function's code or start an existing build (cloudsplaining's finding)."""
    region = f"eu-west-1:{ACCOUNT}"
    assert deployer("lambda:UpdateFunctionCode", f"arn:aws:lambda:{region}:function:billing-exporter") == "deny"
    assert deployer("glue:UpdateDevEndpoint", f"arn:aws:glue:{region}:devEndpoint/analysts") == "deny"
    assert deployer("codebuild:StartBuild", f"arn:aws:codebuild:{region}:project/acme-qa-runner") == "deny"
    assert deployer("codebuild:UpdateProject", f"arn:aws:codebuild:{region}:project/acme-live-runner") == "allow"
    assert deployer("ssm:SendCommand", f"arn:aws:ec2:{region}:instance/i-0123") == "deny"
    assert deployer("ec2:ModifyInstanceAttribute", f"arn:aws:ec2:{region}:instance/i-0123", **{"aws:ResourceTag/env": "qa"}) == "deny"
    assert deployer("ec2:ModifyInstanceAttribute", f"arn:aws:ec2:{region}:instance/i-0456", **{"aws:ResourceTag/env": "live"}) == "allow"


def test_only_the_environments_own_cluster_admits_new_identities() -> None:
    region = f"eu-west-1:{ACCOUNT}"
    assert deployer("eks:CreateAccessEntry", f"arn:aws:eks:{region}:access-entry/acme-live/role/x") == "allow"
    for cluster in ("acme-qa", "acme-live2", "shared-tools"):
        assert deployer("eks:CreateAccessEntry", f"arn:aws:eks:{region}:cluster/{cluster}") == "deny"
        assert deployer("eks:CreatePodIdentityAssociation", f"arn:aws:eks:{region}:cluster/{cluster}") == "deny"


# The planner: configuration, its own state, nothing else.


def test_the_planner_reads_configuration_and_its_state_only() -> None:
    assert planner("ec2:DescribeVpcs", "*") == "allow"
    assert planner("s3:GetBucketPolicy", "arn:aws:s3:::acme-live-airflow-logs") == "allow"
    assert planner("s3:GetObject", f"{STATE}/acme/live/platform/terraform.tfstate") == "allow"
    for resource in (f"{STATE}/acme/qa/platform/terraform.tfstate", "arn:aws:s3:::example-analytics-data/curated/x", f"{STATE}/acme/bootstrap/x"):
        assert planner("s3:GetObject", resource) in ("deny", "implicit"), resource
    assert planner("s3:PutObject", f"{STATE}/acme/live/platform/terraform.tfstate") == "implicit", "only the lock"
    assert planner("s3:PutObject", f"{STATE}/acme/live/platform/terraform.tfstate.tflock") == "allow"
    assert planner("secretsmanager:GetSecretValue", "*") == "implicit"
    assert planner("ssm:GetParameter", f"arn:aws:ssm:eu-west-1:{ACCOUNT}:parameter/private/db-password") == "implicit"
    assert planner("ssm:GetParameter", "arn:aws:ssm:eu-west-1::parameter/aws/service/eks/optimized-ami/1.33/x") == "allow"
    assert planner("iam:PassRole", f"{IAM}:role/acme-live-node") == "implicit"


SECRET_READS = (
    "s3:GetObject", "s3:GetObjectVersion", "secretsmanager:GetSecretValue", "secretsmanager:BatchGetSecretValue",
    "ssm:GetParameter", "ssm:GetParameters", "ssm:GetParametersByPath", "kms:Decrypt",
)  # fmt: skip
"""Reads of data or secret values; a planner statement may allow them only on its own state (and the state key)."""


def test_no_planner_statement_reads_objects_or_secret_values() -> None:
    for statement in statements(PLANNER):
        if statement["Effect"] != "Allow":
            continue
        for action in SECRET_READS:
            for resource in ("*", "arn:aws:s3:::example-analytics-data/x", f"{STATE}/acme/qa/x", f"arn:aws:ssm:eu-west-1:{ACCOUNT}:parameter/db"):
                if statement_applies(statement, action, resource, {}):
                    pytest.fail(f"{statement['Sid']} allows {action} on {resource}")
    assert not [p for p in PLAN_READS for a in SECRET_READS if fnmatch.fnmatchcase(a.lower(), p.lower())]


# Structure: every grant of roles and policies carries the boundary condition, and the denials exist.


def test_every_statement_that_creates_attaches_or_puts_roles_carries_the_boundary() -> None:
    grants = [s for s in statements([deployer_policy(SCOPE)]) if s["Effect"] == "Allow"]
    for statement in grants:
        actions = statement["Action"]
        makes = [a for a in actions if a.startswith(("iam:Create", "iam:Attach", "iam:Put")) and a != "iam:CreateServiceLinkedRole"]
        makes = [a for a in makes if "InstanceProfile" not in a]
        if makes:
            assert statement["Condition"]["StringEquals"]["iam:PermissionsBoundary"] == BOUNDARY, statement["Sid"]
        if "iam:PassRole" in actions:
            # PassRole has no boundary condition key: it reaches only the environment's roles, which all carry it.
            assert statement["Resource"] == [f"{IAM}:role/acme-live-*"] and "iam:PassedToService" in statement["Condition"]["StringEquals"]
        assert not any(a in ("iam:*", "iam:Create*", "iam:CreatePolicy", "iam:CreateUser", "iam:CreateAccessKey") for a in actions)
    sids = {s["Sid"] for s in statements([deployer_policy(SCOPE)]) if s["Effect"] == "Deny"}
    assert {
        "DenyBoundaryRemoval", "DenyRolesWithoutTheBoundary", "DenyChangingCiIdentities", "DenyAdministratorPolicies",
        "DenyObjectsOutsideEnvironment", "DenySecretValues", "DenyStateBucketConfiguration", "DenyStateListingOutsidePrefix",
        "DenyStateHistory", "DenyStateKeyAdministration", "DenyForeignKeyAdministration", "DenyForeignS3Policies",
        "DenyRunningAsOtherRoles", "DenyCommandsOnInstances", "DenyOtherClusters", "DenyForeignKeyGrants", "DenyAccountParameters",
    } <= sids  # fmt: skip


def test_the_boundary_allows_no_iam_beyond_instance_profiles_and_passing_own_roles() -> None:
    boundary = [boundary_policy(SCOPE)]
    for action in ("iam:CreateRole", "iam:AttachRolePolicy", "iam:PutRolePolicy", "iam:CreateUser", "iam:CreateAccessKey", "sts:AssumeRole"):
        assert decide(boundary, action, f"{IAM}:role/acme-live-x") != "allow", action
    assert decide(boundary, "iam:PassRole", f"{IAM}:role/acme-live-karpenter-node", {"iam:PassedToService": "ec2.amazonaws.com"}) == "allow"
    assert decide(boundary, "iam:PassRole", f"{IAM}:role/acme-ci-live-deploy", {"iam:PassedToService": "ec2.amazonaws.com"}) != "allow"
    assert decide(boundary, "s3:GetObject", f"{STATE}/acme/live/platform/terraform.tfstate") == "deny"


# The synthesized stacks against each other.


def aws_environments(synthesized: dict[str, Any]) -> Iterator[tuple[Any, dict[str, Any]]]:
    for config in fixture_configs().values():
        if config.cloud == "aws":
            yield config, synthesized[config.stack_name("platform")]


def role_arns(stack: dict[str, Any], account: str) -> dict[str, str]:
    """``${aws_iam_role.<id>.arn}`` → the role's ARN, to read policies that name roles of the same stack."""
    roles = resources(stack, "aws_iam_role").items()
    return {f"${{aws_iam_role.{logical}.arn}}": f"arn:aws:iam::{account}:role/{body['name']}" for logical, body in roles}


def test_every_role_of_an_environment_carries_the_boundary_its_deployer_requires(synthesized: dict[str, Any], bootstrap: dict[str, Any]) -> None:
    boundaries = {body["name"] for body in resources(bootstrap, "aws_iam_policy").values()}
    for config, stack in aws_environments(synthesized):
        expected = ci.boundary_arn(config)
        assert expected.rsplit("/", 1)[1] in boundaries, f"{config.name}: the bootstrap stack creates no {expected}"
        for body in resources(stack, "aws_iam_role").values():
            assert body.get("permissions_boundary") == expected, f"{config.name}: {body['name']}"


def test_roles_attach_only_the_managed_policies_the_deployer_may_attach(synthesized: dict[str, Any]) -> None:
    allowed = {managed_policy("aws", name) for name in ATTACHABLE_MANAGED_POLICIES}
    for config, stack in aws_environments(synthesized):
        for body in resources(stack, "aws_iam_role_policy_attachment").values():
            assert body["policy_arn"] in allowed, f"{config.name}: {body['policy_arn']} could not be attached by its deployer"


MANAGED_POLICY_SERVICES = {
    "AmazonEKSClusterPolicy": {"autoscaling", "ec2", "elasticloadbalancing", "iam", "kms"},
    "AmazonEKSWorkerNodePolicy": {"ec2", "eks", "eks-auth"},
    "AmazonEKS_CNI_Policy": {"ec2"},
    "AmazonEC2ContainerRegistryReadOnly": {"ecr"},
    "AmazonSSMManagedInstanceCore": {"ssm", "ssmmessages", "ec2messages"},
    "service-role/AmazonEBSCSIDriverPolicy": {"ec2"},
    "service-role/AmazonRDSEnhancedMonitoringRole": {"logs"},
}
"""The services AWS's managed policies use (their published documents; ``iam`` is CreateServiceLinkedRole only)."""


def test_the_boundary_covers_the_services_of_every_attachable_managed_policy() -> None:
    assert set(MANAGED_POLICY_SERVICES) == set(ATTACHABLE_MANAGED_POLICIES), "list the services of a newly attachable policy"
    for name, services in MANAGED_POLICY_SERVICES.items():
        assert services - {"iam"} <= set(BOUNDED_SERVICES), name
    assert decide([boundary_policy(SCOPE)], "iam:CreateServiceLinkedRole", f"{IAM}:role/aws-service-role/eks.amazonaws.com/x") == "allow"


def test_the_boundary_lets_every_role_do_what_its_own_policies_say(synthesized: dict[str, Any], bootstrap: dict[str, Any]) -> None:
    documents = {body["name"]: body["policy"] for body in resources(bootstrap, "aws_iam_policy").values()}
    checked = 0
    for config, stack in aws_environments(synthesized):
        boundary = [documents[ci.boundary_policy_name(config)]]
        arns = role_arns(stack, config.aws.account_id)
        for body in resources(stack, "aws_iam_role_policy").values():
            for statement in statements([body["policy"]]):
                if statement["Effect"] != "Allow":
                    continue
                context = {key: value for tests in statement.get("Condition", {}).values() for key, value in tests.items()}
                resolved = {**statement, "Resource": [arns.get(r, r) for r in statement["Resource"]]}
                for action in resolved["Action"]:
                    for resource in resolved["Resource"]:
                        verdict = decide([{"Statement": [resolved]}], action, resource, context, limits=boundary)
                        assert verdict == "allow", f"{config.name}: {body['name']} of {body['role']}: {action} on {resource} ({verdict})"
                        checked += 1
    assert checked > 100


def test_karpenter_may_manage_instance_profiles_and_pass_its_node_role(synthesized: dict[str, Any], bootstrap: dict[str, Any]) -> None:
    documents = {body["name"]: json.loads(body["policy"]) for body in resources(bootstrap, "aws_iam_policy").values()}
    for config, _ in aws_environments(synthesized):
        boundary = [documents[ci.boundary_policy_name(config)]]
        iam = f"arn:aws:iam::{config.aws.account_id}"
        for action in ("iam:CreateInstanceProfile", "iam:AddRoleToInstanceProfile", "iam:TagInstanceProfile", "iam:DeleteInstanceProfile"):
            assert decide(boundary, action, f"{iam}:instance-profile/{config.resource_prefix}_1234") == "allow"
        node_role = f"{iam}:role/{config.resource_prefix}-karpenter-node"
        assert decide(boundary, "iam:PassRole", node_role, {"iam:PassedToService": "ec2.amazonaws.com"}) == "allow"


def test_cloudsplaining_finds_no_escalation_and_every_finding_is_explained(synth_dir: Any, capsys: pytest.CaptureFixture[str]) -> None:
    """cloudsplaining is a report (``make iam-report``): every finding it still has is explained in ``verify/iam_report.py``."""
    from verify.iam_report import findings, main, subjects

    assert main([str(synth_dir)]) == 0, capsys.readouterr().err
    seen = {subject.name: findings(subject) for subject in subjects(synth_dir) if subject.kind in ("deployer", "planner")}
    for config in fixture_configs().values():
        if config.cloud != "aws":
            continue
        assert not [f for f in seen[ci.deployer_role_name(config)] if f.startswith(("privilege escalation", "data exfiltration"))]
        assert seen[ci.planner_role_name(config)] == ["none"]

"""The AWS constructs on their own (``platform_constructs/aws``): each refusal, with its whole message.

Props refuse what their construct cannot build as they are made, before any binding loads, so
nothing here builds a construct (the stack-level tests build them all).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest

from platform_constructs.aws.bootstrap import CiEnvironment, GithubConnectionProps, GithubDeployersProps
from platform_constructs.aws.ci_policies import CiScope
from platform_constructs.aws.database import DatabaseOptions, PostgresDatabaseProps
from platform_constructs.aws.eks import EksClusterOptions, NodeGroupSpec, admin_role_names
from platform_constructs.aws.iam import attachable_policy
from platform_constructs.aws.karpenter import KarpenterPool, KarpenterProps
from platform_constructs.aws.kms import KmsKeyHandle
from platform_constructs.aws.network import subnet_layout
from platform_constructs.aws.runner import ClusterApiAccess, DeployRunnerProps
from platform_constructs.aws.storage import LogBucketProps
from platform_constructs.placement import BACKFILL_POOL, SYSTEM_POOL, WORKERS_POOL, NodePool

from .refusal import Refusals, refused_with

ACCOUNT = "111111111111"
KEY = KmsKeyHandle(arn="arn:aws:kms:eu-west-1:111111111111:key/k", key_id="k")


def node_group(pool: NodePool = SYSTEM_POOL) -> NodeGroupSpec:
    return NodeGroupSpec(pool=pool, instance_types=["m6i.xlarge"], min_size=1, desired_size=1, max_size=3, disk_size_gib=50)


def cluster(**changes: Any) -> EksClusterOptions:
    return EksClusterOptions(**{"kubernetes_version": "1.33", "node_groups": [node_group()], **changes})


def karpenter_pool(pool: NodePool = WORKERS_POOL, capacity_types: tuple[str, ...] = ("spot", "on-demand")) -> KarpenterPool:
    return KarpenterPool(pool=pool, instance_families=["m6i"], capacity_types=capacity_types, cpu_limit=16, memory_limit_gib=64, disk_size_gib=50)


def karpenter(pools: list[KarpenterPool]) -> KarpenterProps:
    return KarpenterProps(
        cluster_name="c",
        cluster_arn="arn:aws:eks:eu-west-1:111111111111:cluster/c",
        cluster_security_group_id="sg-1",
        region="eu-west-1",
        account_id="111111111111",
        key=KEY,
        pools=pools,
        node_image="al2023@v20251110",
        tags={},
    )


def github_connection(name: str) -> GithubConnectionProps:
    return GithubConnectionProps(name=name)


def ci_environment() -> CiEnvironment:
    scope = CiScope(
        name="dev",
        account_id=ACCOUNT,
        manages_prefix="flightdeck-dev-",
        ci_prefix="flightdeck-ci-",
        boundary_name="flightdeck-ci-dev-boundary",
        bucket_names=(),
        image_repository="flightdeck-dev",
        state_bucket_arn="arn:aws:s3:::flightdeck-state",
        state_prefix="dev/",
        state_key=KEY,
        environment_tag=("env", "dev"),
    )
    return CiEnvironment(
        name="dev",
        deployer_role="flightdeck-ci-dev-deployer",
        planner_role="flightdeck-ci-dev-planner",
        deploy_subject="repo:acme/platform:environment:dev",
        scope=scope,
    )


def github_deployers(environments: Sequence[CiEnvironment]) -> GithubDeployersProps:
    return GithubDeployersProps(
        account_id=ACCOUNT,
        plan_subjects=["repo:acme/platform:pull_request"],
        oidc_host="token.actions.githubusercontent.com",
        oidc_audience="sts.amazonaws.com",
        environments=environments,
    )


def database(allocated_storage_gib: int, max_allocated_storage_gib: int) -> PostgresDatabaseProps:
    options = DatabaseOptions(
        engine_version="16",
        instance_class="db.t4g.medium",
        allocated_storage_gib=allocated_storage_gib,
        max_allocated_storage_gib=max_allocated_storage_gib,
    )
    return PostgresDatabaseProps.of(
        options, identifier="flightdeck-dev", vpc_id="vpc-1", subnet_ids=["subnet-1", "subnet-2"], client_security_group_id="sg-1", key=KEY
    )


def runner(timeout_minutes: int) -> DeployRunnerProps:
    return DeployRunnerProps(
        name="flightdeck-dev-runner",
        repository="acme/platform",
        workflow_name="deploy",
        timeout_minutes=timeout_minutes,
        access=ClusterApiAccess(vpc_id="vpc-1", subnet_ids=["subnet-1"], cluster_security_group_id="sg-1"),
        key=KEY,
        region="eu-west-1",
        account_id=ACCOUNT,
    )


REFUSED: Refusals = {
    "S3 log expiry under a day": (
        lambda: LogBucketProps(name="logs", key=KEY, region="eu-west-1", expire_after_days=0),
        "log expiry must be at least one day, got 0",
    ),
    "two node groups for one pool": (
        lambda: cluster(node_groups=[node_group(), node_group()]),
        "node group pools must be unique, got ['system', 'system']",
    ),
    "a public endpoint open to all": (
        lambda: cluster(endpoint_public_access=True),
        "a public cluster endpoint needs public_access_cidrs; an open endpoint is not allowed",
    ),
    "one admin role twice": (
        lambda: cluster(admin_role_arns=["arn:aws:iam::1:role/ops", "arn:aws:iam::1:role/team/ops", "arn:aws:iam::1:role/dev"]),
        "admin_role_arns name a role twice: ['ops']",
    ),
    "two Karpenter pools of one name": (
        lambda: karpenter([karpenter_pool(), karpenter_pool()]),
        "Karpenter pools must be unique, got ['workers', 'workers']",
    ),
    "a capacity type Karpenter does not know": (
        lambda: karpenter_pool(capacity_types=("spot", "reserved")),
        "pool workers: capacity types ['spot', 'reserved'] must be spot and/or on-demand",
    ),
    "no capacity type": (
        lambda: karpenter_pool(capacity_types=()),
        "pool workers: capacity types [] must be spot and/or on-demand",
    ),
    "a GitHub connection name over 32 characters": (
        lambda: github_connection("flightdeck-platform-eu-west-github"),
        "GitHub connection name 'flightdeck-platform-eu-west-github' is longer than 32 characters",
    ),
    "CI roles for no environment": (
        lambda: github_deployers([]),
        "account 111111111111: no environment to create CI roles for",
    ),
    "database storage that may not grow to its own size": (
        lambda: database(allocated_storage_gib=100, max_allocated_storage_gib=50),
        "max_allocated_storage_gib 50 is below allocated_storage_gib 100",
    ),
    "a managed policy the deployer may not attach": (
        lambda: attachable_policy("aws", "AdministratorAccess"),
        "AdministratorAccess is not in ATTACHABLE_MANAGED_POLICIES: the deployer could not attach it",
    ),
    "a VPC over more zones than it is laid out for": (
        lambda: subnet_layout("10.0.0.0/16", 4),
        "a VPC spans 1 to 3 zones, got 4",
    ),
    "a VPC in no zone": (
        lambda: subnet_layout("10.0.0.0/16", 0),
        "a VPC spans 1 to 3 zones, got 0",
    ),
    "a runner timeout too short for a deploy": (
        lambda: runner(timeout_minutes=9),
        "runner flightdeck-dev-runner: a timeout of 9 minutes is too short for a deploy",
    ),
}


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_aws_constructs_refuse_what_they_cannot_build(case: str) -> None:
    make, message = REFUSED[case]
    assert refused_with(make) == message


def test_props_within_their_limits_are_accepted() -> None:
    LogBucketProps(name="logs", key=KEY, region="eu-west-1", expire_after_days=1)
    cluster(endpoint_public_access=True, public_access_cidrs=["203.0.113.0/24"], admin_role_arns=["arn:aws:iam::1:role/ops"])
    karpenter([karpenter_pool(), karpenter_pool(BACKFILL_POOL, ("spot",))])
    github_connection("flightdeck-analytics-platform-gh")
    github_deployers([ci_environment()])
    database(allocated_storage_gib=100, max_allocated_storage_gib=100)
    assert attachable_policy("aws", "AmazonEKSClusterPolicy") == "arn:aws:iam::aws:policy/AmazonEKSClusterPolicy"
    assert len(subnet_layout("10.0.0.0/16", 1).private) == 1
    assert len(subnet_layout("10.0.0.0/16", 3).private) == 3
    runner(timeout_minutes=10)


def test_admin_access_entries_are_keyed_by_role_name_whatever_the_path() -> None:
    assert admin_role_names(["arn:aws:iam::1:role/ops", "arn:aws:iam::1:role/platform/team-a"]) == ["ops", "team-a"]

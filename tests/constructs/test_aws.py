"""The AWS constructs on their own (``platform_constructs/aws``): each refusal, with its whole message.

Props refuse what their construct cannot build as they are made, before any binding loads; a
refusal that needs the construct itself is reached by building it in a stack of its own.
"""

from __future__ import annotations

from typing import Any

import pytest

from platform_constructs.aws.eks import EksClusterOptions, NodeGroupSpec, admin_role_names
from platform_constructs.aws.karpenter import KarpenterPool, KarpenterProps
from platform_constructs.aws.kms import KmsKeyHandle
from platform_constructs.aws.storage import LogBucketProps
from platform_constructs.placement import BACKFILL_POOL, SYSTEM_POOL, WORKERS_POOL, NodePool

from .refusal import Refusals, refused_with

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
}


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_aws_constructs_refuse_what_they_cannot_build(case: str) -> None:
    make, message = REFUSED[case]
    assert refused_with(make) == message


def test_props_within_their_limits_are_accepted() -> None:
    LogBucketProps(name="logs", key=KEY, region="eu-west-1", expire_after_days=1)
    cluster(endpoint_public_access=True, public_access_cidrs=["203.0.113.0/24"], admin_role_arns=["arn:aws:iam::1:role/ops"])
    karpenter([karpenter_pool(), karpenter_pool(BACKFILL_POOL, ("spot",))])


def test_admin_access_entries_are_keyed_by_role_name_whatever_the_path() -> None:
    assert admin_role_names(["arn:aws:iam::1:role/ops", "arn:aws:iam::1:role/platform/team-a"]) == ["ops", "team-a"]

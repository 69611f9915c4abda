"""Small helpers for IAM policy documents written as Python data.

Policies are rendered with ``json.dumps``: cdktf resolves the tokens (ARNs of resources in the same
stack) embedded in the string, and the result is a plain JSON policy that reviewers and checkov read
directly in the synthesized stack.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import jsii
from cdktf import IAspect


def policy(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)}, sort_keys=True)


def allow(actions: Sequence[str], resources: Sequence[str], **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": list(actions), "Resource": list(resources), **extra}


READ_SECRET = ("secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret")


def read_secrets(arns: Sequence[str]) -> dict[str, Any]:
    """Read the values of these Secrets Manager secrets."""
    return allow(list(READ_SECRET), arns)


def secret_arn(partition: str, region: str, account_id: str, name: str) -> str:
    """The ARN of a secret known by name: Secrets Manager appends six random characters to it."""
    return f"arn:{partition}:secretsmanager:{region}:{account_id}:secret:{name}-??????"


def prefix_access(bucket_arn: str, prefix: str, object_actions: Sequence[str]) -> list[dict[str, Any]]:
    """List the objects under ``prefix`` (the whole bucket if empty) and act on them."""
    listing: dict[str, Any] = {"Condition": {"StringLike": {"s3:prefix": [f"{prefix}*"]}}} if prefix else {}
    return [allow(["s3:ListBucket"], [bucket_arn], **listing), allow(object_actions, [f"{bucket_arn}/{prefix}*"])]


def service_trust(service: str, *, tag_session: bool = False) -> str:
    """A trust policy letting an AWS service assume the role."""
    actions = ["sts:AssumeRole", "sts:TagSession"] if tag_session else ["sts:AssumeRole"]
    return policy({"Effect": "Allow", "Principal": {"Service": service}, "Action": actions})


def managed_policy(partition: str, name: str) -> str:
    return f"arn:{partition}:iam::aws:policy/{name}"


ATTACHABLE_MANAGED_POLICIES = (
    "AmazonEKSClusterPolicy",
    "AmazonEKSWorkerNodePolicy",
    "AmazonEKS_CNI_Policy",
    "AmazonEC2ContainerRegistryReadOnly",
    "AmazonSSMManagedInstanceCore",
    "service-role/AmazonEBSCSIDriverPolicy",
    "service-role/AmazonRDSEnhancedMonitoringRole",
)
"""The AWS managed policies an environment's roles use: the only ones its deployer may attach."""


def attachable_policy(partition: str, name: str) -> str:
    """The ARN of an AWS managed policy an environment role may carry (one of ``ATTACHABLE_MANAGED_POLICIES``)."""
    if name not in ATTACHABLE_MANAGED_POLICIES:
        raise ValueError(f"{name} is not in ATTACHABLE_MANAGED_POLICIES: the deployer could not attach it")
    return managed_policy(partition, name)


@jsii.implements(IAspect)
class PermissionsBoundary:
    """An aspect that gives every IAM role under a scope the same permissions boundary.

    The CI deployer may only create and change roles that carry its environment's boundary
    (``platform_constructs/aws/bootstrap.py``); so every role the stack creates must carry it.
    """

    def __init__(self, policy_arn: str) -> None:
        self.policy_arn = policy_arn

    def visit(self, node: Any) -> None:
        from cdktf_cdktf_provider_aws.iam_role import IamRole

        if isinstance(node, IamRole):
            node.permissions_boundary = self.policy_arn

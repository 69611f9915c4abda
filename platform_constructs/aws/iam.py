"""Small helpers for IAM policy documents written as Python data.

Policies are rendered with ``json.dumps``: cdktf resolves the tokens (ARNs of resources in the same
stack) embedded in the string, and the result is a plain JSON policy that reviewers and checkov read
directly in the synthesized stack.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any


def policy(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)}, sort_keys=True)


def allow(actions: Sequence[str], resources: Sequence[str], **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": list(actions), "Resource": list(resources), **extra}


def read_secrets(arns: Sequence[str]) -> dict[str, Any]:
    """Read the values of these Secrets Manager secrets."""
    return allow(["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"], arns)


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

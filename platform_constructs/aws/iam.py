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


def service_trust(service: str, *, tag_session: bool = False) -> str:
    """A trust policy letting an AWS service assume the role."""
    actions = ["sts:AssumeRole", "sts:TagSession"] if tag_session else ["sts:AssumeRole"]
    return policy({"Effect": "Allow", "Principal": {"Service": service}, "Action": actions})


def managed_policy(partition: str, name: str) -> str:
    return f"arn:{partition}:iam::aws:policy/{name}"

"""The IAM helpers' own rules (``platform_constructs/aws/iam.py``), without synthesis."""

from __future__ import annotations

import pytest

from platform_constructs.aws.iam import ATTACHABLE_MANAGED_POLICIES, attachable_policy


def test_only_the_managed_policies_the_deployer_may_attach_are_attached() -> None:
    assert attachable_policy("aws-us-gov", "AmazonSSMManagedInstanceCore") == "arn:aws-us-gov:iam::aws:policy/AmazonSSMManagedInstanceCore"
    assert "AdministratorAccess" not in ATTACHABLE_MANAGED_POLICIES
    with pytest.raises(ValueError, match="AdministratorAccess is not in ATTACHABLE_MANAGED_POLICIES: the deployer could not attach it"):
        attachable_policy("aws", "AdministratorAccess")

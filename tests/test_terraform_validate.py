"""``terraform validate`` of each stack's AWS part with the real hashicorp/aws provider.

Typed bindings only catch wrong names and types; the provider's own validators catch values AWS
would reject (enum spellings, ARN shapes, conflicting arguments). The machines this runs on have
an offline filesystem mirror holding hashicorp/aws (and no other provider), so the AWS resources
are cut out of the stack, the version constraint is set to what the mirror holds, and Terraform
validates them without any network or credentials.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from verify.terraform import aws_part, find_mirror, terraform, write_cli_config


def test_aws_part_keeps_everything_aws_and_nothing_else(stacks: dict[str, Any]) -> None:
    part = aws_part(stacks["prod"], "5.100.0")
    assert set(part["resource"]) == {t for t in stacks["prod"]["resource"] if t.startswith("aws_")}
    assert not any(t.startswith(("kubernetes_", "helm_")) for t in part["resource"])
    assert "cluster_name" in part["output"]


@pytest.fixture(scope="module")
def terraform_mirror(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    terraform = shutil.which("terraform")
    mirror = find_mirror()
    if terraform is None or mirror is None:
        pytest.skip(f"needs the terraform CLI ({terraform or 'missing'}) and an aws provider mirror ({mirror or 'missing'})")
    root, version = mirror
    config = write_cli_config(root, tmp_path_factory.mktemp("terraform") / "terraform.rc")
    return version, config


@pytest.fixture(scope="module")
def validation(
    stacks: dict[str, Any], bootstrap: dict[str, Any], terraform_mirror: tuple[str, Path], tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Any]:
    """One ``terraform validate`` over every environment and the bootstrap stack, each as a module (one init)."""
    version, config = terraform_mirror
    root = tmp_path_factory.mktemp("validate")
    stacks = {**stacks, "bootstrap": bootstrap}
    for env, stack in stacks.items():
        (root / env).mkdir()
        (root / env / "main.tf.json").write_text(json.dumps(aws_part(stack, version)))
    (root / "main.tf.json").write_text(json.dumps({"module": {env: {"source": f"./{env}"} for env in stacks}}))
    init = terraform(["init", "-backend=false", "-input=false", "-no-color"], root, config)
    assert init.returncode == 0, init.stdout + init.stderr
    return json.loads(terraform(["validate", "-json", "-no-color"], root, config).stdout)


@pytest.mark.parametrize("env", ["dev", "qa", "prod", "bootstrap"])
def test_terraform_validate_aws_part(validation: dict[str, Any], env: str) -> None:
    problems = [
        f"{d['severity']}: {d['summary']}: {d.get('detail', '')} ({d.get('address', '')})"
        for d in validation["diagnostics"]
        if d.get("address", "").startswith(f"module.{env}.") or d.get("range", {}).get("filename", "").startswith(f"{env}/")
    ]
    assert problems == []


def test_validation_covers_every_environment_and_is_clean(validation: dict[str, Any]) -> None:
    assert validation["valid"] is True, validation["diagnostics"]
    assert validation["error_count"] == 0


def test_excluding_a_type_drops_what_depends_on_it(stacks: dict[str, Any]) -> None:
    part = aws_part(stacks["dev"], "5.100.0", exclude_types={"aws_eks_cluster"})
    assert "aws_eks_cluster" not in part["resource"]
    assert "aws_eks_node_group" not in part["resource"], "node groups refer to the cluster"
    assert "aws_vpc" in part["resource"]
    assert "cluster_name" not in part["output"]

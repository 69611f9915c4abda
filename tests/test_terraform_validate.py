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


@pytest.mark.parametrize("env", ["dev", "qa", "prod"])
def test_terraform_validate_aws_part(stacks: dict[str, Any], env: str, terraform_mirror: tuple[str, Path], tmp_path: Path) -> None:
    version, config = terraform_mirror
    (tmp_path / "main.tf.json").write_text(json.dumps(aws_part(stacks[env], version)))
    init = terraform(["init", "-backend=false", "-input=false", "-no-color"], tmp_path, config)
    assert init.returncode == 0, init.stdout + init.stderr
    validate = terraform(["validate", "-json", "-no-color"], tmp_path, config)
    report = json.loads(validate.stdout)
    problems = [f"{d['severity']}: {d['summary']}: {d.get('detail', '')}" for d in report["diagnostics"]]
    assert report["valid"], "\n".join(problems)
    assert [p for p in problems if p.startswith("error")] == []


def test_excluding_a_type_drops_what_depends_on_it(stacks: dict[str, Any]) -> None:
    part = aws_part(stacks["dev"], "5.100.0", exclude_types={"aws_eks_cluster"})
    assert "aws_eks_cluster" not in part["resource"]
    assert "aws_eks_node_group" not in part["resource"], "node groups refer to the cluster"
    assert "aws_vpc" in part["resource"]
    assert "cluster_name" not in part["output"]

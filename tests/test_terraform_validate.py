"""``terraform validate`` of each stack's AWS part with the real hashicorp/aws provider.

Typed bindings only catch wrong names and types; the provider's own validators catch values AWS
would reject (enum spellings, ARN shapes, conflicting arguments). The machines this runs on have
an offline filesystem mirror holding hashicorp/aws (and no other provider), so the AWS resources
are cut out of the stack, the version constraint is set to what the mirror holds, and Terraform
validates them without any network or credentials.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

MIRROR_CANDIDATES = (Path("/opt/tf-plugins"), Path.home() / ".terraform.d" / "plugins")
AWS_IN_MIRROR = Path("registry.terraform.io") / "hashicorp" / "aws"


def find_mirror() -> tuple[Path, str] | None:
    """The filesystem mirror holding hashicorp/aws, and the newest version in it."""
    for root in MIRROR_CANDIDATES:
        versions = sorted((p.name for p in (root / AWS_IN_MIRROR).glob("*") if p.is_dir()), key=_version_key)
        if versions:
            return root, versions[-1]
    return None


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", version))


def references_only_aws(node: Any) -> bool:
    text = json.dumps(node)
    return all(ref.startswith(("aws_", "data.aws_", "var.", "local.")) for ref in re.findall(r"\$\{([a-z_.]+)", text))


def aws_part(stack: dict[str, Any], provider_version: str) -> dict[str, Any]:
    """The provider, resources, data sources and outputs of the stack that belong to AWS."""
    part: dict[str, Any] = {
        "terraform": {"required_providers": {"aws": {"source": "hashicorp/aws", "version": provider_version}}},
        "provider": {"aws": stack["provider"]["aws"]},
        "resource": {t: r for t, r in stack.get("resource", {}).items() if t.startswith("aws_")},
        "data": {t: d for t, d in stack.get("data", {}).items() if t.startswith("aws_")},
        "output": {k: o for k, o in stack.get("output", {}).items() if references_only_aws(o)},
    }
    return {k: v for k, v in part.items() if v}


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
    config = tmp_path_factory.mktemp("terraform") / "terraform.rc"
    config.write_text(
        "provider_installation {\n"
        f'  filesystem_mirror {{\n    path    = "{root}"\n    include = ["registry.terraform.io/hashicorp/aws"]\n  }}\n'
        '  direct {\n    exclude = ["registry.terraform.io/hashicorp/aws"]\n  }\n'
        "}\n"
    )
    return version, config


@pytest.mark.parametrize("env", ["dev", "qa", "prod"])
def test_terraform_validate_aws_part(stacks: dict[str, Any], env: str, terraform_mirror: tuple[str, Path], tmp_path: Path) -> None:
    version, config = terraform_mirror
    (tmp_path / "main.tf.json").write_text(json.dumps(aws_part(stacks[env], version)))
    environ = {**os.environ, "TF_CLI_CONFIG_FILE": str(config), "TF_IN_AUTOMATION": "1", "CHECKPOINT_DISABLE": "1"}
    init = subprocess.run(
        ["terraform", "init", "-backend=false", "-input=false", "-no-color"],
        cwd=tmp_path, env=environ, capture_output=True, text=True, timeout=300, check=False,
    )
    assert init.returncode == 0, init.stdout + init.stderr
    validate = subprocess.run(
        ["terraform", "validate", "-json", "-no-color"],
        cwd=tmp_path, env=environ, capture_output=True, text=True, timeout=300, check=False,
    )
    report = json.loads(validate.stdout)
    problems = [f"{d['severity']}: {d['summary']}: {d.get('detail', '')}" for d in report["diagnostics"]]
    assert report["valid"], "\n".join(problems)
    assert [p for p in problems if p.startswith("error")] == []

"""``terraform validate`` of every AWS platform stack, whole, and the bootstrap stack, with the real hashicorp/aws provider.

Typed bindings only catch wrong names and types; the provider's own validators catch values AWS
would reject (enum spellings, ARN shapes, conflicting arguments). The machines this runs on have
an offline filesystem mirror holding hashicorp/aws 5.100 (and no other provider): the version
constraint is set to what the mirror holds and Terraform validates without any network or
credentials. The stacks pin aws 6.x (the prebuilt bindings'); an argument only 6.x has would be
reported here as unsupported, and today's stacks have none. The cluster stacks hold kubernetes,
helm and datadog resources, whose providers the mirror does not have.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any, cast

import pytest

from verify.terraform import find_mirror, for_mirror, shared_provider, terraform, write_cli_config

from .conftest import ENVIRON, background, fixture_configs, load_stacks, synthesized_by


def aws_stacks(synthesized: dict[str, Any]) -> dict[str, Any]:
    """Every AWS environment's platform stack, and the bootstrap stack."""
    names = [c.stack_name("platform") for c in fixture_configs().values() if c.cloud == "aws"]
    return {name: synthesized[name] for name in [*names, "bootstrap"]}


def test_the_platform_stack_is_taken_whole(synthesized: dict[str, Any]) -> None:
    stack = synthesized["prod_platform"]
    part = for_mirror(stack, "5.100.0")
    assert part["resource"] == stack["resource"]
    assert part["output"] == stack["output"]
    assert part["terraform"] == {"required_providers": {"aws": {"source": "hashicorp/aws", "version": "5.100.0"}}}


def test_a_stack_with_other_providers_is_refused(synthesized: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="not an AWS-only stack: datadog_dashboard_json"):
        for_mirror(synthesized["prod_cluster"], "5.100.0")


RESTORED = ("restored", "again")
"""The ``restores`` fixture's AWS variants: restored once, and restored again (a dev environment without Datadog)."""


@background("validation", 2.8, needs=("synth_dir", "workstation", "restores_aws"))
def _validation(work: Path) -> dict[str, Any] | str:
    """One ``terraform validate`` over every AWS platform stack and the bootstrap stack, each as a module
    (one init, one run, one provider process: each start of the provider spends seconds building its schema), with the workstation
    fixture's platform stack (a bastion, a public dev endpoint) and the restored variants; or why it
    cannot run here."""
    terraform_cli, mirror = shutil.which("terraform"), find_mirror()
    if terraform_cli is None or mirror is None:
        return f"needs the terraform CLI ({terraform_cli or 'missing'}) and an aws provider mirror ({mirror or 'missing'})"
    root, version = mirror
    config = write_cli_config(root, work / "terraform.rc")
    restores = synthesized_by("restores_aws")
    stacks = {
        **aws_stacks(load_stacks(synthesized_by("synth_dir"))),
        "sandbox_platform": synthesized_by("workstation")[1]["sandbox_platform"],
        **{f"{name}_platform": restores[name] for name in RESTORED},
    }
    for env, stack in stacks.items():
        (work / env).mkdir()
        (work / env / "main.tf.json").write_text(json.dumps(for_mirror(stack, version)))
    (work / "main.tf.json").write_text(json.dumps({"module": {env: {"source": f"./{env}"} for env in stacks}}))
    with shared_provider(root, version, work, ENVIRON) as environ:
        init = terraform(["init", "-backend=false", "-input=false", "-no-color"], work, config, base=environ)
        assert init.returncode == 0, init.stdout + init.stderr
        result: dict[str, Any] = json.loads(terraform(["validate", "-json", "-no-color"], work, config, base=environ).stdout)
    return {**result, "modules": sorted(stacks)}


@pytest.fixture(scope="module")
def validation() -> dict[str, Any]:
    result = synthesized_by("validation")
    if isinstance(result, str):
        pytest.skip(result)
    return cast(dict[str, Any], result)


VALIDATED = ("dev_platform", "qa_platform", "prod_platform", "bootstrap", "sandbox_platform", *(f"{name}_platform" for name in RESTORED))


@pytest.mark.parametrize("env", VALIDATED)
def test_terraform_validate_stack(validation: dict[str, Any], env: str) -> None:
    problems = [
        f"{d['severity']}: {d['summary']}: {d.get('detail', '')} ({d.get('address', '')})"
        for d in validation["diagnostics"]
        if d.get("address", "").startswith(f"module.{env}.") or d.get("range", {}).get("filename", "").startswith(f"{env}/")
    ]
    assert problems == []


def test_validation_covers_every_environment_and_is_clean(validation: dict[str, Any]) -> None:
    aws = [c.stack_name("platform") for c in fixture_configs().values() if c.cloud == "aws"]
    assert set(validation["modules"]) == {*aws, "bootstrap", "sandbox_platform", *(f"{name}_platform" for name in RESTORED)}
    assert validation["valid"] is True, validation["diagnostics"]
    assert validation["error_count"] == 0


def test_excluding_a_type_drops_what_depends_on_it(synthesized: dict[str, Any]) -> None:
    part = for_mirror(synthesized["dev_platform"], "5.100.0", exclude_types={"aws_eks_cluster"})
    assert "aws_eks_cluster" not in part["resource"]
    assert "aws_eks_node_group" not in part["resource"], "node groups refer to the cluster"
    assert "aws_vpc" in part["resource"]
    assert "cluster_name" not in part["output"]

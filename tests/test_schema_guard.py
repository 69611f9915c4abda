"""The downgrade refusal (``platform_constructs/aws/schema_guard.py``), planned for real: Terraform with
the real aws provider against the emulator, deploying one version after another.

No synthesis of an environment: the construct alone, in a stack of its own, so this runs in seconds.
"""

from __future__ import annotations

import copy
import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import pytest

from platform_constructs.migrations import version_order

from .conftest import background, run_probe, synthesized_by

GUARDS = ("flightdeck-live=3.2.2", "flightdeck-live=3.10.1", "flightdeck-live=3.9.0", "flightdeck-live-r1=3.2.2")
"""The stacks the tests read: the first deploy, an upgrade, a downgrade, and a restored instance."""


@background("guard_stacks", 4)
def _guard_stacks(work: Path) -> dict[str, dict[str, Any]]:
    result = run_probe("schema_guard", *GUARDS)
    assert result.returncode == 0, result.stderr[-3000:]
    stacks: dict[str, dict[str, Any]] = json.loads(result.stdout)
    return stacks


@pytest.fixture(scope="module")
def guard_stacks() -> dict[str, dict[str, Any]]:
    """The stacks of ``GUARDS``, by argument."""
    return cast(dict[str, dict[str, Any]], synthesized_by("guard_stacks"))


def test_versions_compare_as_numbers() -> None:
    assert version_order("3.10.0") > version_order("3.9.9") > version_order("3.2.2") == 3002002
    with pytest.raises(ValueError, match="above 999"):
        version_order("3.1000.0")


def test_the_record_is_one_parameter_per_instance_under_the_environments_path(guard_stacks: dict[str, dict[str, Any]]) -> None:
    stack = guard_stacks["flightdeck-live-r1=3.2.2"]
    (record,) = stack["resource"]["aws_ssm_parameter"].values()
    assert record["name"] == "/flightdeck-live-airflow-schema/flightdeck-live-r1" and record["value"] == "3.2.2"
    (recorded,) = stack["data"]["aws_ssm_parameters_by_path"].values()
    assert recorded["path"] == "/flightdeck-live-airflow-schema"
    (precondition,) = record["lifecycle"]["precondition"]
    assert "3002002" in precondition["condition"] and "restore_from" in precondition["error_message"]
    # Only this instance's own record counts: a restored instance (a new identifier) starts without one,
    # so the older image may run against the snapshot taken before the upgrade.
    assert 'if name == "/flightdeck-live-airflow-schema/flightdeck-live-r1"' in precondition["condition"]


@dataclass(frozen=True)
class Emulated:
    endpoint: str
    workdir: Path
    cli_config: Path
    provider_version: str


def plan_or_apply(emulated: Emulated, stack: dict[str, Any], command: str) -> tuple[int, str]:
    from verify.terraform import terraform

    endpoint, workdir, config = emulated.endpoint, emulated.workdir, emulated.cli_config
    stack = copy.deepcopy(stack)
    stack["terraform"] = {"required_providers": {"aws": {"source": "hashicorp/aws", "version": emulated.provider_version}}}
    stack["provider"]["aws"] = [
        {
            "region": "eu-west-1",
            "access_key": "emulator",
            "secret_key": "emulator",
            "skip_credentials_validation": True,
            "skip_metadata_api_check": True,
            "skip_requesting_account_id": True,
            "endpoints": [{"ssm": endpoint}],
        }
    ]
    stack.pop("//", None)
    (workdir / "main.tf.json").write_text(json.dumps(stack))
    if not (workdir / ".terraform").exists():
        init = terraform(["init", "-input=false", "-no-color"], workdir, config)
        assert init.returncode == 0, init.stderr
    args = ["apply", "-auto-approve"] if command == "apply" else ["plan"]
    result = terraform([*args, "-input=false", "-no-color", "-lock=false"], workdir, config)
    return result.returncode, result.stdout + result.stderr


DEPLOYS = (("apply", "3.2.2"), ("apply", "3.10.1"), ("plan", "3.9.0"))
"""One deploy after another against the same emulator: the first, an upgrade, then a downgrade."""


@background("guard_deploys", 40, needs=("guard_stacks",))
def _guard_deploys(work: Path) -> list[tuple[int, str]] | None:
    """Each of ``DEPLOYS``' status and output; None without Terraform and its aws provider mirror."""
    from verify.e2e import emulator
    from verify.terraform import find_mirror, write_cli_config

    mirror = find_mirror()
    if shutil.which("terraform") is None or mirror is None:
        return None
    root, version = mirror
    stacks = cast(dict[str, dict[str, Any]], synthesized_by("guard_stacks"))
    with emulator("555555555555") as endpoint:
        emulated = Emulated(endpoint=endpoint, workdir=work, cli_config=write_cli_config(root, work / "terraform.rc"), provider_version=version)
        return [plan_or_apply(emulated, stacks[f"flightdeck-live={v}"], command) for command, v in DEPLOYS]


@pytest.fixture(scope="module")
def guard_deploys() -> list[tuple[int, str]]:
    deploys = cast(list[tuple[int, str]] | None, synthesized_by("guard_deploys"))
    if deploys is None:
        pytest.skip("needs the terraform CLI and an aws provider mirror (see the README, How it is verified)")
    return deploys


def test_a_deploy_may_go_up_but_never_below_the_version_its_database_was_migrated_to(guard_deploys: list[tuple[int, str]]) -> None:
    first, upgrade, downgrade = guard_deploys
    # The first deploy finds no record and keeps one.
    assert first[0] == 0, first[1]
    # An upgrade is applied, and recorded.
    assert upgrade[0] == 0, upgrade[1]
    # Going back below 3.10.1 is refused at plan time, with the way back in the message.
    status, output = downgrade
    assert status != 0
    flat = " ".join(output.split())
    assert "Airflow 3.9.0 is older than the version the database flightdeck-live was migrated to" in flat
    assert "database.restore_from" in flat

"""The downgrade refusal (``platform_constructs/aws/schema_guard.py``), planned for real: Terraform with
the real aws provider against the emulator, deploying one version after another.

No synthesis of an environment: the construct alone, in a stack of its own, so this runs in seconds.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from platform_constructs.aws.schema_guard import SchemaGuard, SchemaGuardProps
from platform_constructs.migrations import version_order


def guard_stack(version: str, instance: str = "flightdeck-live") -> dict[str, Any]:
    from cdktf import App, TerraformStack, Testing
    from cdktf_cdktf_provider_aws.provider import AwsProvider

    app = Testing.app()
    assert isinstance(app, App)
    stack = TerraformStack(app, "guard")
    AwsProvider(stack, "aws", region="eu-west-1")
    SchemaGuard(stack, "schema", SchemaGuardProps(prefix="flightdeck-live", instance=instance, airflow_version=version))
    synthesized: dict[str, Any] = json.loads(Testing.synth(stack))
    return synthesized


def test_versions_compare_as_numbers() -> None:
    assert version_order("3.10.0") > version_order("3.9.9") > version_order("3.2.2") == 3002002
    with pytest.raises(ValueError, match="above 999"):
        version_order("3.1000.0")


def test_the_record_is_one_parameter_per_instance_under_the_environments_path() -> None:
    stack = guard_stack("3.2.2", instance="flightdeck-live-r1")
    (record,) = stack["resource"]["aws_ssm_parameter"].values()
    assert record["name"] == "/flightdeck-live-airflow-schema/flightdeck-live-r1" and record["value"] == "3.2.2"
    (recorded,) = stack["data"]["aws_ssm_parameters_by_path"].values()
    assert recorded["path"] == "/flightdeck-live-airflow-schema"
    (precondition,) = record["lifecycle"]["precondition"]
    assert "3002002" in precondition["condition"] and "restore_from" in precondition["error_message"]
    # Only this instance's own record counts: a restored instance (a new identifier) starts without one,
    # so the older image may run against the snapshot taken before the upgrade.
    assert 'name != "/flightdeck-live-airflow-schema/flightdeck-live-r1"' in precondition["condition"]


@dataclass(frozen=True)
class Emulated:
    endpoint: str
    workdir: Path
    cli_config: Path
    provider_version: str


@pytest.fixture(scope="module")
def emulated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulated]:
    from verify.e2e import emulator
    from verify.terraform import find_mirror, write_cli_config

    mirror = find_mirror()
    if shutil.which("terraform") is None or mirror is None:
        pytest.skip("needs the terraform CLI and an aws provider mirror (see the README, How it is verified)")
    root, version = mirror
    workdir = tmp_path_factory.mktemp("guard")
    config = write_cli_config(root, workdir / "terraform.rc")
    with emulator("555555555555") as endpoint:
        yield Emulated(endpoint=endpoint, workdir=workdir, cli_config=config, provider_version=version)


def plan_or_apply(emulated: Emulated, command: str, version: str) -> tuple[int, str]:
    from verify.terraform import terraform

    endpoint, workdir, config = emulated.endpoint, emulated.workdir, emulated.cli_config
    stack = guard_stack(version)
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


def test_a_deploy_may_go_up_but_never_below_the_version_its_database_was_migrated_to(emulated: Emulated) -> None:
    # The first deploy finds no record and keeps one.
    status, output = plan_or_apply(emulated, "apply", "3.2.2")
    assert status == 0, output
    # An upgrade is applied, and recorded.
    status, output = plan_or_apply(emulated, "apply", "3.10.1")
    assert status == 0, output
    # Going back below 3.10.1 is refused at plan time, with the way back in the message.
    status, output = plan_or_apply(emulated, "plan", "3.9.0")
    assert status != 0
    flat = " ".join(output.split())
    assert "Airflow 3.9.0 is older than the version the database flightdeck-live was migrated to" in flat
    assert "database.restore_from" in flat

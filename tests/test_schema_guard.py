"""The downgrade refusal (``platform_constructs/aws/schema_guard.py``), planned for real: Terraform with
the real aws provider against the emulator: a first deploy, a restored instance, an upgrade, the same
version again and a downgrade, planned together.

No synthesis of an environment: the construct alone, in a stack of its own, so this runs in seconds.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import pytest

from platform_constructs.aws.schema_guard import records_path
from platform_constructs.migrations import version_order

from .conftest import EMULATED_ACCOUNT, ENVIRON, background, head_start, run_probe, synthesized_by

CASES: dict[str, tuple[str | None, bool]] = {
    # The stack (``[prefix:]instance=version`` deployed): the version already recorded for that
    # instance (None: no record), and whether the plan may go ahead.
    "flightdeck-new:flightdeck-new=3.2.2": (None, True),  # a first deploy: nothing recorded under the path at all
    "flightdeck-live-r1=3.2.2": (None, True),  # a restored instance: newer records beside it, none of its own
    "flightdeck-live-up=3.10.1": ("3.9.0", True),  # an upgrade (3.10 is above 3.9 as numbers, not as text)
    "flightdeck-live-again=3.10.1": ("3.10.1", True),  # the same version deployed again
    "flightdeck-live=3.9.0": ("3.10.1", False),  # a downgrade
}
"""The cases planned together against one emulator (``guard_deploys``)."""


@background("guard_stacks", 0.1, lane="aws")
def _guard_stacks(work: Path) -> dict[str, dict[str, Any]]:
    result = run_probe("schema_guard", *CASES)
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


def record_name(case: str) -> str:
    where, _ = case.split("=")
    prefix, _, instance = where.rpartition(":")
    return f"{records_path(prefix or 'flightdeck-live')}/{instance}"


@dataclass(frozen=True)
class Planned:
    status: int
    planned: dict[str, str]
    """What the plan would do to each case's record (``create``), by case."""
    refused: dict[str, str]
    """The error each case was refused with, on one line, by case."""


@background("guard_deploys", 3.6, needs=("guard_stacks",))
def _guard_deploys(work: Path) -> Planned | None:
    """One plan of every case, each a module of one root, against one emulator holding the cases'
    records; None without Terraform and its aws provider mirror.

    One plan rather than a deploy after another: every Terraform command costs the aws provider
    seconds of CPU (one provider process serves both commands here, ``shared_provider``), and the
    guard decides at plan time
    from what its data source reads, so the records a deploy would have left are written straight
    into the emulator, under the names the stacks read them by (the emulated deploy, ``make e2e``,
    applies the record itself in every environment).
    """
    from verify.e2e import boto, emulator, endpoint_environment
    from verify.terraform import find_mirror, shared_provider, terraform, write_cli_config

    mirror = find_mirror()
    if shutil.which("terraform") is None or mirror is None:
        return None
    root, version = mirror
    config = write_cli_config(root, work / "terraform.rc")
    stacks = cast(dict[str, dict[str, Any]], synthesized_by("guard_stacks"))
    modules = {case: f"case{n}" for n, case in enumerate(CASES)}
    for case, module in modules.items():
        body = {k: v for k, v in stacks[case].items() if k not in ("//", "provider", "terraform")}
        (work / module).mkdir()
        (work / module / "main.tf.json").write_text(json.dumps(body))
    with (
        # The emulator started as the session began, where it runs the whole suite (conftest, head starts).
        emulator(EMULATED_ACCOUNT, ENVIRON, started=head_start("emulator")) as endpoint,
        shared_provider(root, version, work, {**ENVIRON, **endpoint_environment(endpoint)}) as environ,
    ):
        ssm = boto("ssm", endpoint, "eu-west-1")
        for case, (recorded, _) in CASES.items():
            if recorded is not None:
                ssm.put_parameter(Name=record_name(case), Value=recorded, Type="String")
        provider = {
            "region": "eu-west-1",
            "access_key": "emulator",
            "secret_key": "emulator",
            "skip_credentials_validation": True,
            "skip_metadata_api_check": True,
            "skip_requesting_account_id": True,
            # The emulator's address comes from the provider's environment, as in the emulated deploy
            # (``endpoint_environment``), not an ``endpoints`` block.
        }
        (work / "main.tf.json").write_text(
            json.dumps(
                {
                    "terraform": {"required_providers": {"aws": {"source": "hashicorp/aws", "version": version}}},
                    "provider": {"aws": [provider]},
                    "module": {module: {"source": f"./{module}"} for module in modules.values()},
                }
            )
        )
        init = terraform(["init", "-input=false", "-no-color"], work, config, base=environ)
        assert init.returncode == 0, init.stderr
        plan = terraform(["plan", "-input=false", "-no-color", "-lock=false", "-json"], work, config, base=environ)
    messages = [json.loads(line) for line in plan.stdout.splitlines() if line.startswith("{")]
    planned = {m["change"]["resource"]["module"].removeprefix("module."): m["change"]["action"] for m in messages if m["type"] == "planned_change"}
    refused = {}
    for diagnostic in (m["diagnostic"] for m in messages if m["type"] == "diagnostic" and m["diagnostic"]["severity"] == "error"):
        module = diagnostic.get("range", {}).get("filename", "").split("/")[0]  # the module's folder
        refused[module] = " ".join(f"{diagnostic['summary']}: {diagnostic.get('detail', '')}".split())
    by_module = {module: case for case, module in modules.items()}
    return Planned(
        plan.returncode,
        {by_module.get(m, m): action for m, action in planned.items()},
        {by_module.get(m, m): message for m, message in refused.items()},
    )


@pytest.fixture(scope="module")
def guard_deploys() -> Planned:
    planned = cast(Planned | None, synthesized_by("guard_deploys"))
    if planned is None:
        pytest.skip("needs the terraform CLI and an aws provider mirror (see the README, How it is verified)")
    return planned


def test_a_deploy_may_go_up_but_never_below_the_version_its_database_was_migrated_to(guard_deploys: Planned) -> None:
    accepted = {case for case, (_, ok) in CASES.items() if ok}
    # Every accepted case plans to keep its version; the one refused plans nothing.
    assert set(guard_deploys.planned) == accepted, guard_deploys
    # The downgrade, and nothing else, is refused at plan time, with the way back in the message.
    assert guard_deploys.status != 0
    assert set(guard_deploys.refused) == {"flightdeck-live=3.9.0"}, guard_deploys.refused
    message = guard_deploys.refused["flightdeck-live=3.9.0"]
    assert "Airflow 3.9.0 is older than the version the database flightdeck-live was migrated to" in message
    assert "database.restore_from" in message

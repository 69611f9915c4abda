"""The emulated deploy's input (``make e2e`` runs the deploy itself; this checks what it is given)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flightdeck.manifest import synthesized_stacks
from verify.e2e import EMULATOR_GAPS, aws_environments, emulated_part, endpoint_environment

from .conftest import fixture_configs


def test_emulated_part_points_at_the_emulator_and_keeps_the_environment(synthesized: dict[str, Any]) -> None:
    part = emulated_part(synthesized["prod_platform"], "5.100.0")
    (provider,) = part["provider"]["aws"]
    # Every service at the emulator, from the provider's environment: nothing in the configuration says otherwise.
    assert "endpoints" not in provider and endpoint_environment("http://127.0.0.1:4566") == {"AWS_ENDPOINT_URL": "http://127.0.0.1:4566"}
    assert "allowed_account_ids" not in provider
    assert not set(EMULATOR_GAPS) & set(part["resource"])
    groups = part["resource"]["aws_eks_node_group"].values()
    assert {g["node_group_name"] for g in groups} == {"system"}
    for group in groups:
        assert not any(d.startswith("aws_eks_addon.") for d in group["depends_on"])
    (db,) = part["resource"]["aws_db_instance"].values()
    assert db["deletion_protection"] is False and db["skip_final_snapshot"] is True
    # The real stack keeps its protection: only the emulated copy is changed.
    (real_db,) = synthesized["prod_platform"]["resource"]["aws_db_instance"].values()
    assert real_db["deletion_protection"] is True


def test_everything_the_emulator_can_create_is_applied(synthesized: dict[str, Any]) -> None:
    stack = synthesized["prod_platform"]
    part = emulated_part(stack, "5.100.0")
    left_out = {t for t in stack["resource"] if t not in part["resource"]}
    assert left_out == set(EMULATOR_GAPS) & set(stack["resource"]), "only the listed gaps are left out"
    assert "aws_codebuild_project" in part["resource"], "the runner itself is created, only its GitHub webhook is not"


def test_the_emulated_deploy_takes_every_aws_environment_and_no_other(synth_dir: Path, gke_dir: Path) -> None:
    aws = sorted(name for name, config in fixture_configs().items() if config.cloud == "aws")
    assert aws and aws_environments(synthesized_stacks(synth_dir)) == aws
    assert aws_environments(synthesized_stacks(gke_dir)) == [], "a GKE platform stack is not for the AWS emulator"

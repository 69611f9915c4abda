"""``make new-env``: a copy of an environment, the fields that still point at its source, and the
warning every synthesis gives about the same (on the project's own fixture, not the shipped files)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from flightdeck.loader import load_environments
from flightdeck.scaffold import cross_environment_warnings, scaffold

from .conftest import WORKSTATION, run_module


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    target = tmp_path / "environments"
    shutil.copytree(WORKSTATION, target)
    return target


def test_a_copy_lists_every_field_that_still_points_at_its_source(folder: Path) -> None:
    target, fields = scaffold(folder, "sandbox2", "sandbox")
    assert target.read_text() == (folder / "sandbox.yaml").read_text(), "a copy, comments and all"
    assert [path for path, _ in fields] == [
        "aws.account_id",
        "state.bucket",
        "network.cidr",
        "airflow.ui.hostname",
        "airflow.ui.certificate",
    ]
    assert dict(fields)["airflow.ui.hostname"] == "airflow.sandbox.example.internal"


def test_synthesis_warns_about_a_copy_left_as_it_was(folder: Path) -> None:
    scaffold(folder, "sandbox2", "sandbox")
    warnings = cross_environment_warnings(load_environments(folder, {}))
    # The same account and range are not said (environments may share an account); the names are.
    assert warnings == [
        f"{folder}/sandbox2.yaml: airflow.ui.hostname 'airflow.sandbox.example.internal' is also environment sandbox's",
        f"{folder}/sandbox2.yaml: airflow.ui.hostname 'airflow.sandbox.example.internal' points at environment sandbox",
        f"{folder}/sandbox2.yaml: state.bucket 'sandbox-tfstate-444444444444' points at environment sandbox",
    ]


def test_a_changed_copy_is_quiet(folder: Path) -> None:
    target, _ = scaffold(folder, "sandbox2", "sandbox")
    text = target.read_text().replace("444444444444", "666666666666").replace("10.44.", "10.55.").replace("sandbox", "staging")
    target.write_text(text)
    assert cross_environment_warnings(load_environments(folder, {})) == []


@pytest.mark.parametrize(
    ("name", "source", "message"),
    [
        ("Sandbox_2", "sandbox", "Sandbox_2: an environment name is lowercase letters, digits and dashes"),
        ("other", "nowhere", "nowhere.yaml: no such environment to copy"),
        ("sandbox", "sandbox", "sandbox.yaml: already exists; nothing was written"),
        (
            "sandbox-eu",
            "sandbox",
            "sandbox-eu: 'sandbox-eu' starts with 'sandbox-', so in one account sandbox's deployer could change "
            "sandbox-eu's roles; choose a name that does not (for example sandboxeu); nothing was written",
        ),
        ("ci", "sandbox", "ci: the environment name 'ci' is reserved"),
    ],
)
def test_bad_requests_exit_2_and_write_nothing(folder: Path, name: str, source: str, message: str) -> None:
    before = sorted(p.name for p in folder.iterdir())
    result = run_module("flightdeck.scaffold", name, source, FLIGHTDECK_ENVIRONMENTS=str(folder))
    assert result.returncode == 2 and message in result.stderr and "Traceback" not in result.stderr
    assert sorted(p.name for p in folder.iterdir()) == before

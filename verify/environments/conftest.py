"""The environments of this run: the files of ``environments/`` (or ``FLIGHTDECK_ENVIRONMENTS``),
read as ``main.py`` reads them, and the stacks ``make synth`` wrote for them into ``cdktf.out``
(or ``CDKTF_OUTDIR``). Nothing here synthesizes again."""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from flightdeck.config import EnvironmentConfig
from flightdeck.loader import environments_directory, load_environments


@cache
def configs() -> dict[str, EnvironmentConfig]:
    return {config.name: config for config in load_environments(environments_directory(os.environ), os.environ)}


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "env" in metafunc.fixturenames:
        metafunc.parametrize("env", sorted(configs()))


@pytest.fixture(scope="session")
def outdir() -> Path:
    return Path(os.environ.get("CDKTF_OUTDIR", "cdktf.out"))


@pytest.fixture(scope="session")
def synthesized(outdir: Path) -> dict[str, dict[str, Any]]:
    from tests.conftest import load_stacks

    stacks = load_stacks(outdir)
    missing = [config.stack_name(part) for config in configs().values() for part in config.stack_parts if config.stack_name(part) not in stacks]
    if missing:
        pytest.fail(f"{outdir} lacks {', '.join(missing)}: run make synth first (make verify does)")
    return stacks

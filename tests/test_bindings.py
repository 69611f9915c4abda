"""Only the provider bindings an environment uses are loaded (they cost seconds and hundreds of MB each)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .conftest import imported_packages


def test_synthesis_loads_exactly_the_bindings_the_stacks_use(synth_dir: Path, stacks: dict[str, Any]) -> None:
    used = {provider for stack in stacks.values() for provider in stack["terraform"]["required_providers"]}
    loaded = {p.removeprefix("cdktf_cdktf_provider_") for p in imported_packages(synth_dir) if p.startswith("cdktf_cdktf_provider_")}
    assert loaded == used
    assert "cdktf" in imported_packages(synth_dir)

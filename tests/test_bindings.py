"""Only the provider bindings an environment uses are loaded (they cost seconds and hundreds of MB each).

Three synthesis runs: the fixture AWS environments, the GKE examples and the existing-cluster
example. Each imports exactly the bindings of the providers its stacks declare: an AWS-only run
never imports the google bindings, a GCP-only run never the aws ones, and an existing cluster
neither.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from .conftest import LINE, imported_packages, load_stacks


def _loaded_bindings(outdir: Path) -> set[str]:
    """The providers whose bindings loaded, by the session's line's package names (``cdktn_provider_aws`` is aws)."""
    return {p.removeprefix(LINE.provider_prefix) for p in imported_packages(outdir) if p.startswith(LINE.provider_prefix)}


def _used_providers(stacks: dict[str, Any]) -> set[str]:
    return {provider for stack in stacks.values() for provider in stack["terraform"]["required_providers"]}


@pytest.mark.parametrize(
    ("run", "expected"),
    [
        ("synth_dir", {"aws", "kubernetes", "helm", "datadog"}),
        ("gke_dir", {"google", "random", "kubernetes", "helm", "datadog"}),
        ("existing_dir", {"kubernetes", "helm"}),
    ],
)
def test_synthesis_loads_exactly_the_bindings_the_stacks_use(run: str, expected: set[str], request: pytest.FixtureRequest) -> None:
    outdir: Path = request.getfixturevalue(run)
    used = _used_providers(load_stacks(outdir))
    assert used == expected
    assert _loaded_bindings(outdir) == used
    assert LINE.core in imported_packages(outdir)

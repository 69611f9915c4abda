"""Only the provider bindings an environment uses are loaded (they cost seconds and hundreds of MB each).

Three synthesis runs: the fixture AWS environments, the GKE examples and the existing-cluster
example. Each imports exactly the bindings of the providers its stacks declare: an AWS-only run
never imports the google bindings, a GCP-only run never the aws ones, and an existing cluster
neither. Each runs in one of the session's synthesis processes (``LANE_OPENINGS`` in
tests/conftest.py), where it may find loaded only bindings its own stacks use (the existing
cluster's run is the GCP process's first, GKE's comes after it): then the bindings loaded once it
is done are exactly those a fresh ``python main.py`` of it would load. A run that found an unused
binding already loaded is no evidence either way, and fails.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .conftest import LINE, imports, load_stacks


def _providers(packages: set[str]) -> set[str]:
    """The providers whose bindings are among ``packages``, by the session's line's package names (``cdktn_provider_aws`` is aws)."""
    return {p.removeprefix(LINE.provider_prefix) for p in packages if p.startswith(LINE.provider_prefix)}


def _used_providers(stacks: dict[str, Any]) -> set[str]:
    return {provider for stack in stacks.values() for provider in stack["terraform"]["required_providers"]}


def _loads_exactly_the_bindings_the_stacks_use(outdir: Path, expected: set[str]) -> None:
    used = _used_providers(load_stacks(outdir))
    assert used == expected
    before, imported = imports(outdir)
    assert _providers(before) <= used, f"the process had loaded bindings this run does not use: {sorted(_providers(before) - used)}"
    assert _providers(before | imported) == used
    assert LINE.core in before | imported


# One test per run, each naming its fixture, so a test waits only for its own synthesis (and the
# session runs it once that synthesis is due, not before).


def test_an_aws_synthesis_loads_exactly_the_bindings_its_stacks_use(synth_dir: Path) -> None:
    _loads_exactly_the_bindings_the_stacks_use(synth_dir, {"aws", "kubernetes", "helm", "datadog"})


def test_a_gke_synthesis_loads_exactly_the_bindings_its_stacks_use(gke_dir: Path) -> None:
    _loads_exactly_the_bindings_the_stacks_use(gke_dir, {"google", "random", "kubernetes", "helm", "datadog"})


def test_an_existing_cluster_synthesis_loads_exactly_the_bindings_its_stacks_use(existing_dir: Path) -> None:
    _loads_exactly_the_bindings_the_stacks_use(existing_dir, {"kubernetes", "helm"})

"""Only the provider bindings an environment uses are loaded (they cost seconds and hundreds of MB each).

Three synthesis runs: the fixture AWS environments, the GKE examples and the existing-cluster
example. Each imports exactly the bindings of the providers its stacks declare: an AWS-only run
never imports the google bindings, a GCP-only run never the aws ones, and an existing cluster
neither. Each is the first synthesis of a process of its own (the session's AWS and GCP synthesis
processes, a fresh interpreter for the existing cluster), so what it imported is what a fresh
``python main.py`` loads; a run that found a binding or the CDK core already loaded is no evidence,
and fails.
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
    assert not _providers(before) and LINE.core not in before, f"not the process's first synthesis: {sorted(before)}"
    assert _providers(imported) == used
    assert LINE.core in imported


# One test per run, each naming its fixture, so a test waits only for its own synthesis (and the
# session runs it once that synthesis is due, not before).


def test_an_aws_synthesis_loads_exactly_the_bindings_its_stacks_use(synth_dir: Path) -> None:
    _loads_exactly_the_bindings_the_stacks_use(synth_dir, {"aws", "kubernetes", "helm", "datadog"})


def test_a_gke_synthesis_loads_exactly_the_bindings_its_stacks_use(gke_dir: Path) -> None:
    _loads_exactly_the_bindings_the_stacks_use(gke_dir, {"google", "random", "kubernetes", "helm", "datadog"})


def test_an_existing_cluster_synthesis_loads_exactly_the_bindings_its_stacks_use(existing_dir: Path) -> None:
    _loads_exactly_the_bindings_the_stacks_use(existing_dir, {"kubernetes", "helm"})

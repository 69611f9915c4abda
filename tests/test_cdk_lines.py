"""The two CDK lines build the same Terraform: their stack snapshots differ only where the README says.

Each line's snapshots are checked against its own synthesis (``tests/test_snapshots.py``, run on both
lines in CI), so comparing the two committed sets compares what the lines synthesize. What may
differ (README, "Two CDK lines"): the providers' versions and source spellings (``aws`` against
``hashicorp/aws``), the kubernetes 3.x ``metadata`` of namespaces and roles as a list of one block,
the google 8.x write-only version as a string, and the cdktf version (already stubbed in every
snapshot). Everything else (every resource,
address, argument and reference) must be equal, which is why the emulated deploy and the policy scan
of one line speak for the other's AWS stacks.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from flightdeck.cdk_line import LINES

from .conftest import one_block_view

SNAPSHOTS = Path(__file__).resolve().parent / "__snapshots__"
WRITE_ONLY_VERSIONS = ("secret_data_wo_version",)


def line_neutral(stack: dict[str, Any]) -> dict[str, Any]:
    """The stack with the differences the lines are allowed to have taken out."""
    stack = one_block_view(copy.deepcopy(stack))
    providers = stack.get("terraform", {}).get("required_providers", {})
    for name, pin in providers.items():
        # An unqualified source is the hashicorp namespace's; the version is the line's own.
        source = pin.get("source", name)
        providers[name] = {"source": (source if "/" in source else f"hashicorp/{source}").lower()}
    for resources in stack.get("resource", {}).values():
        for body in resources.values():
            for argument in WRITE_ONLY_VERSIONS:
                if isinstance(body.get(argument), str) and body[argument].isdigit():
                    body[argument] = int(body[argument])
    return stack


def snapshot_files(line: str) -> dict[str, Path]:
    return {path.name: path for path in sorted((SNAPSHOTS / line).rglob("*.json"))}


def test_both_lines_keep_the_same_snapshots() -> None:
    names = {line: set(snapshot_files(line)) for line in LINES}
    assert all(names.values()), names
    first, *others = LINES
    for line in others:
        assert names[line] == names[first], f"only {first}: {names[first] - names[line]}; only {line}: {names[line] - names[first]}"


@pytest.mark.parametrize("name", sorted(snapshot_files("cdktf")))
def test_the_lines_synthesize_the_same_terraform(name: str) -> None:
    cdktf, cdktn = (json.loads(snapshot_files(line)[name].read_text()) for line in ("cdktf", "cdktn"))
    assert cdktf != cdktn, "the provider pins at least differ"
    assert line_neutral(cdktf) == line_neutral(cdktn)


def test_the_comparison_sees_a_real_difference() -> None:
    """A changed argument is not hidden by the normalization."""
    name = next(iter(sorted(snapshot_files("cdktf"))))
    stack = json.loads(snapshot_files("cdktn")[name].read_text())
    changed = copy.deepcopy(stack)
    resource_type, resources = next(iter(changed["resource"].items()))
    next(iter(resources.values()))["flightdeck_probe"] = True
    assert line_neutral(changed) != line_neutral(stack), resource_type

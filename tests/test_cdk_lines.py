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
import mmap
from pathlib import Path
from typing import Any

import pytest

from flightdeck.cdk_line import LINES

from .conftest import LINE, one_block_view

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


# A binding package loads only the resource modules a synthesis uses (flightdeck/cdk_line.py).

def test_a_binding_loads_only_the_modules_used_and_jsii_finds_the_others_on_its_own(lazy_bindings: dict[str, Any]) -> None:
    seen = lazy_bindings
    assert "already_loaded" not in seen, "the probe must run where the datadog bindings have not loaded"
    # The module imported and the one named: not the 190 the package would import by itself.
    assert len(seen["loaded"]) < 10, seen["loaded"]
    assert seen["named"] == "DashboardJson"
    # A type the kernel returns from a module nobody imported is found through the submodule map.
    assert seen["found"] is True and seen["imported"] is True


def _first_jsii_type(module: Path) -> str | None:
    """The first ``jsii_type="..."`` the module declares (searched in its bytes: there are thousands of
    modules, some of megabytes)."""
    with module.open("rb") as file, mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ) as text:
        start = text.find(b'jsii_type="')
        if start < 0:
            return None
        start += len('jsii_type="')
        return text[start : text.find(b'"', start)].decode()


def test_the_submodule_map_names_every_installed_binding_module_as_jsii_does() -> None:
    """``_jsii_submodule`` turns a Python module name into jsii's; every module of every installed
    cdktf binding declares its types under exactly that name."""
    import importlib.util

    from flightdeck.cdk_line import CDKTF, _jsii_submodule

    if LINE != CDKTF:
        pytest.skip("the cdktn line's bindings are lazy and map their submodules themselves")
    names = ("aws", "kubernetes", "helm", "datadog", "google", "random")
    packages = [spec for name in names if (spec := importlib.util.find_spec(CDKTF.provider_package(name)))]
    wrong, checked = [], 0
    for spec in packages:
        for folder in spec.submodule_search_locations or ():
            for module in sorted(Path(folder).glob("[!_]*/__init__.py")):
                declared = _first_jsii_type(module)
                if declared is None:
                    continue
                checked += 1
                if declared.split(".")[1] != _jsii_submodule(module.parent.name):
                    wrong.append(f"{module.parent.name}: {declared}")
    assert checked > 1000 and wrong == []

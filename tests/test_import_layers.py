"""The import layers the README's architecture section writes down, checked on the source.

Every import of every module (module-level and inside functions alike, relative ones resolved) is
an edge; an edge may only run from a layer down to a lower one, or stay inside one unit of a layer.
Units of the same rank are siblings and may not import each other (the clouds, Airflow and Datadog,
configuration and constructs). And no cycle, anywhere.
"""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

import pytest

from .conftest import REPO, import_statements

SOURCES = ("flightdeck", "platform_constructs", "stacks", "verify")

LAYERS: tuple[tuple[int, str, tuple[str, ...]], ...] = (
    # (rank, unit, module prefixes): lower ranks first.
    (0, "names", ("platform_constructs.workloads", "platform_constructs.placement", "platform_constructs.tagging")),
    (1, "handles", ("platform_constructs.handles", "platform_constructs.helm", "platform_constructs.migrations", "platform_constructs.shapes")),
    (2, "kubernetes", ("platform_constructs.kubernetes", "platform_constructs.teams")),
    (3, "airflow", ("platform_constructs.airflow",)),
    (3, "datadog", ("platform_constructs.datadog",)),
    (3, "aws", ("platform_constructs.aws",)),
    (3, "gcp", ("platform_constructs.gcp",)),
    (3, "existing", ("platform_constructs.existing",)),
    (4, "configuration", ("flightdeck",)),
    (5, "stacks", ("stacks",)),
    (6, "verify", ("verify",)),
    (6, "main", ("main",)),
)
"""``flightdeck`` (configuration) and the constructs never import each other: ``stacks`` translates one
into the other. The constructs rank below configuration only so that the order is total; the
sibling rule keeps them apart all the same (configuration is checked not to import any construct)."""
INDEPENDENT = {("configuration", unit) for _, unit, prefixes in LAYERS if prefixes[0].startswith("platform_constructs")}
"""Pairs that may not import each other although their ranks differ."""


def module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    found = {module_name(f): f for root in SOURCES for f in (REPO / root).rglob("*.py")}
    found["main"] = REPO / "main.py"
    return found


def imports(name: str, path: Path, known: set[str]) -> set[str]:
    """The project's modules ``name`` imports (a ``from x import y`` of a submodule counts as that submodule)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in import_statements(path):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join([*base, *([node.module] if node.module else [])])
            else:
                target = node.module or ""
            found.add(target)
            found |= {f"{target}.{alias.name}" for alias in node.names if f"{target}.{alias.name}" in known}
    return {target for target in found if target in known and target != name}


@cache
def graph() -> dict[str, set[str]]:
    known = modules()
    return {name: imports(name, path, set(known)) for name, path in known.items()}


def unit_of(module: str) -> tuple[int, str]:
    matches = [(len(prefix), rank, unit) for rank, unit, prefixes in LAYERS for prefix in prefixes
               if module == prefix or module.startswith(f"{prefix}.")]  # fmt: skip
    if not matches:
        raise AssertionError(f"{module} is in no layer; add it to LAYERS (and the README's architecture section)")
    _, rank, unit = max(matches)
    return rank, unit


def violations(edges: dict[str, set[str]]) -> list[str]:
    found = []
    for source, targets in sorted(edges.items()):
        if source in ("platform_constructs", "flightdeck", "stacks", "verify"):
            continue  # package markers
        source_rank, source_unit = unit_of(source)
        for target in sorted(targets):
            if target in ("platform_constructs", "flightdeck", "stacks", "verify"):
                continue
            target_rank, target_unit = unit_of(target)
            if target_unit == source_unit:
                continue
            if target_rank >= source_rank or (source_unit, target_unit) in INDEPENDENT:
                found.append(f"{source} ({source_unit}) imports {target} ({target_unit})")
    return found


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Every import cycle, found by a depth-first search (each reported once, from its smallest module)."""
    found: list[list[str]] = []
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for target in sorted(edges.get(node, ())):
            if state.get(target) == 1:
                cycle = stack[stack.index(target):]
                start = cycle.index(min(cycle))
                found.append(cycle[start:] + cycle[:start])
            elif target not in state:
                visit(target)
        stack.pop()
        state[node] = 2

    for node in sorted(edges):
        if node not in state:
            visit(node)
    return found


def test_imports_run_only_down_the_layers() -> None:
    assert violations(graph()) == []


def test_there_is_no_import_cycle() -> None:
    assert cycles(graph()) == []


def test_every_module_is_in_a_layer() -> None:
    for module in graph():
        if module not in SOURCES:
            unit_of(module)


@pytest.mark.parametrize(
    ("edges", "expected"),
    [
        ({"platform_constructs.aws.eks": {"platform_constructs.gcp.gke"}}, ["aws) imports platform_constructs.gcp.gke (gcp)"]),
        ({"flightdeck.config": {"platform_constructs.airflow.values"}}, ["configuration) imports platform_constructs.airflow.values"]),
        ({"platform_constructs.handles": {"stacks.aws"}}, ["handles) imports stacks.aws (stacks)"]),
        ({"stacks.aws": {"platform_constructs.aws.eks", "flightdeck.config"}}, []),
    ],
)
def test_the_checker_sees_a_wrong_import(edges: dict[str, set[str]], expected: list[str]) -> None:
    found = violations(edges)
    assert len(found) == len(expected) and all(e in f for e, f in zip(expected, found, strict=True)), found


def test_the_checker_sees_a_cycle() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_providers_and_backends_are_set_only_in_the_stacks() -> None:
    """A construct never configures its stack's providers or backend: ``stacks/`` does, once per stack."""
    found = []
    for path in (REPO / "platform_constructs").rglob("*.py"):
        for node in import_statements(path):
            if isinstance(node, ast.ImportFrom) and node.module is not None:
                names = {alias.name for alias in node.names}
                if node.module.endswith(".provider") or (node.module == "cdktf" and any(n.endswith("Backend") for n in names)):
                    found.append(f"{path.relative_to(REPO)}: from {node.module} import {', '.join(sorted(names))}")
    assert found == []

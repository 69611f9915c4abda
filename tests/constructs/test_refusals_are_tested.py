"""Every refusal a construct makes is tested in the module that mirrors its layer.

A construct (or its props) that raises on what it cannot build states a contract; this finds each
``raise SomeError("…")`` under ``platform_constructs/`` and asks that the test module of its layer
(``tests/constructs/test_<layer>.py``: ``aws``, ``gcp``, ``kubernetes``, ``airflow``, ``datadog``,
``existing``, and ``core`` for the modules at the top) names part of its message. The stack-level
tests reach many of the same refusals through environment files; these reach them directly. The
stack layer's own refusals (``stacks/``) must be named by some test outside this folder.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from ..conftest import statements

ROOT = Path(__file__).resolve().parents[2]
CONSTRUCTS = ROOT / "platform_constructs"
HERE = Path(__file__).resolve().parent
SHORTEST = 12
"""A message's literal pieces shorter than this are too common to identify it."""


def layer_of(path: Path) -> str:
    relative = path.relative_to(CONSTRUCTS)
    return relative.parts[0] if len(relative.parts) > 1 else "core"


def refusals(source: str) -> list[tuple[int, list[str]]]:
    """Each raise with a message in ``source``: its line and the literal pieces of its message."""
    found = []
    for node in statements(ast.parse(source)):
        if not (isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call) and node.exc.args):
            continue
        texts = [n.value for n in ast.walk(node.exc.args[0]) if isinstance(n, ast.Constant) and isinstance(n.value, str)]
        pieces = [p.strip(" ;:,.'()") for text in texts for p in text.replace(";", ",").split(",")]
        found.append((node.lineno, [p for p in pieces if len(p) >= SHORTEST]))
    return sorted(found)


def untested(source: str, tests: str, where: str) -> list[str]:
    """The refusals of ``source`` that ``tests`` names no piece of (by its first 25 characters)."""
    missing = []
    for line, pieces in refusals(source):
        if not pieces:
            missing.append(f"{where}:{line}: a message with no literal text to find it by")
        elif not any(piece[:25] in tests for piece in pieces):
            missing.append(f"{where}:{line}: {' … '.join(pieces)}")
    return missing


LAYERS = sorted({layer_of(p) for p in CONSTRUCTS.rglob("*.py")})


@pytest.mark.parametrize("layer", LAYERS)
def test_every_refusal_of_a_layer_is_tested_in_its_module(layer: str) -> None:
    module = HERE / f"test_{layer}.py"
    assert module.exists(), f"{module.relative_to(ROOT)}: the constructs of platform_constructs/{layer} have no test module"
    tests = module.read_text()
    missing = []
    for path in sorted(CONSTRUCTS.rglob("*.py")):
        if layer_of(path) == layer:
            missing += untested(path.read_text(), tests, str(path.relative_to(ROOT)))
    assert missing == [], f"refusals not tested in {module.name}:\n" + "\n".join(missing)


def test_every_refusal_of_the_stack_layer_is_tested() -> None:
    """``stacks/`` translates configuration into props; its few refusals are guards on its own contract."""
    tests = "\n".join(p.read_text() for p in (ROOT / "tests").rglob("test_*.py") if p.parent != HERE)
    missing = []
    for path in sorted((ROOT / "stacks").rglob("*.py")):
        missing += untested(path.read_text(), tests, str(path.relative_to(ROOT)))
    assert missing == [], "refusals of stacks/ no test names:\n" + "\n".join(missing)


def test_the_check_finds_an_untested_refusal() -> None:
    source = (
        "def build(size):\n"
        "    if size < 1:\n"
        "        raise ValueError(f'pool {size}: the pool needs at least one node')\n"
        "    raise RuntimeError(name)\n"
    )
    assert untested(source, "match='the pool needs at least one node'", "m.py") == ["m.py:4: a message with no literal text to find it by"]
    assert untested(source, "", "m.py")[0] == "m.py:3: the pool needs at least one node"

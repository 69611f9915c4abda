"""One snapshot per environment of the synthesized JSON: every change to a stack shows in review.

A snapshot proves nothing by itself (the targeted tests do that); it makes changes visible. After an
intended change, refresh with ``.venv/bin/python -m pytest tests/test_snapshots.py --snapshot-update``
and review the diff of ``tests/__snapshots__``.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
from syrupy.assertion import SnapshotAssertion
from syrupy.extensions.json import JSONSnapshotExtension


def stable(stack: dict[str, Any]) -> dict[str, Any]:
    """The stack with the cdktf version stubbed, so upgrading the toolchain alone changes nothing."""
    stack = copy.deepcopy(stack)
    stack["//"]["metadata"]["version"] = "<cdktf version>"
    return stack


@pytest.mark.parametrize("env", ["dev", "qa", "prod"])
def test_stack_snapshot(stacks: dict[str, Any], env: str, snapshot: SnapshotAssertion) -> None:
    assert stable(stacks[env]) == snapshot(extension_class=JSONSnapshotExtension)


def test_bootstrap_snapshot(bootstrap: dict[str, Any], snapshot: SnapshotAssertion) -> None:
    assert stable(bootstrap) == snapshot(extension_class=JSONSnapshotExtension)


@pytest.mark.parametrize("env", ["dev", "qa", "prod"])
def test_gke_stack_snapshot(gke_stacks: dict[str, Any], env: str, snapshot: SnapshotAssertion) -> None:
    assert stable(gke_stacks[env]) == snapshot(extension_class=JSONSnapshotExtension)


def test_existing_cluster_stack_snapshot(existing_stack: dict[str, Any], snapshot: SnapshotAssertion) -> None:
    assert stable(existing_stack) == snapshot(extension_class=JSONSnapshotExtension)

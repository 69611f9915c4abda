"""One snapshot per synthesized stack (each environment's platform and cluster stack): every change shows in review.

A snapshot proves nothing by itself (the targeted tests do that); it makes changes visible. After an
intended change, refresh with ``make snapshots``
and review the diff of ``tests/__snapshots__``.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
from syrupy.assertion import SnapshotAssertion
from syrupy.extensions.json import JSONSnapshotExtension

from .conftest import load_stacks


def stable(stack: dict[str, Any]) -> dict[str, Any]:
    """The stack with the cdktf version stubbed, so upgrading the toolchain alone changes nothing."""
    stack = copy.deepcopy(stack)
    stack["//"]["metadata"]["version"] = "<cdktf version>"
    return stack


STACKS = [f"{env}_{part}" for env in ("dev", "qa", "prod") for part in ("platform", "cluster")]


@pytest.mark.parametrize("name", STACKS)
def test_stack_snapshot(synthesized: dict[str, Any], name: str, snapshot: SnapshotAssertion) -> None:
    assert stable(synthesized[name]) == snapshot(extension_class=JSONSnapshotExtension)


def test_bootstrap_snapshot(bootstrap: dict[str, Any], snapshot: SnapshotAssertion) -> None:
    assert stable(bootstrap) == snapshot(extension_class=JSONSnapshotExtension)


@pytest.mark.parametrize("name", STACKS)
def test_gke_stack_snapshot(gke_dir: Path, name: str, snapshot: SnapshotAssertion) -> None:
    assert stable(load_stacks(gke_dir)[name]) == snapshot(extension_class=JSONSnapshotExtension)


def test_existing_cluster_stack_snapshot(existing_stack: dict[str, Any], snapshot: SnapshotAssertion) -> None:
    assert stable(existing_stack) == snapshot(extension_class=JSONSnapshotExtension)

"""One snapshot per synthesized stack (each environment's platform and cluster stack): every change shows in review.

A snapshot proves nothing by itself (the targeted tests do that); it makes changes visible. After an
intended change, refresh with ``make snapshots`` (``make snapshots FLIGHTDECK_CDK=cdktn`` for the other
line) and review the diff of ``tests/__snapshots__``. Each CDK line has its own snapshots
(``tests/__snapshots__/<line>/``): the lines pin different provider majors. Snapshots compare the
files exactly as written (``load_stacks(..., raw=True)``).
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
from syrupy.assertion import SnapshotAssertion
from syrupy.extensions.json import JSONSnapshotExtension
from syrupy.location import PyTestLocation

from .conftest import LINE, load_stacks


class LineSnapshots(JSONSnapshotExtension):
    """JSON snapshots kept per CDK line, in ``__snapshots__/<line>/<test module>/`` beside the test module.

    syrupy counts the other line's files as unused snapshots (and ``--snapshot-update`` would delete
    them): ``make snapshots`` keeps them aside while it refreshes this line's.
    """

    @classmethod
    def dirname(cls, *, test_location: PyTestLocation) -> str:
        return str(Path(test_location.filepath).parent / "__snapshots__" / LINE.name / test_location.basename)


def stable(stack: dict[str, Any]) -> dict[str, Any]:
    """The stack with the CDK version stubbed, so upgrading the toolchain alone changes nothing."""
    stack = copy.deepcopy(stack)
    stack["//"]["metadata"]["version"] = "<cdktf version>"
    return stack


STACKS = [f"{env}_{part}" for env in ("dev", "qa", "prod") for part in ("platform", "cluster")]


@pytest.mark.parametrize("name", STACKS)
def test_stack_snapshot(synth_dir: Path, name: str, snapshot: SnapshotAssertion) -> None:
    assert stable(load_stacks(synth_dir, raw=True)[name]) == snapshot(extension_class=LineSnapshots)


def test_bootstrap_snapshot(synth_dir: Path, snapshot: SnapshotAssertion) -> None:
    assert stable(load_stacks(synth_dir, raw=True)["bootstrap"]) == snapshot(extension_class=LineSnapshots)


@pytest.mark.parametrize("name", STACKS)
def test_gke_stack_snapshot(gke_dir: Path, name: str, snapshot: SnapshotAssertion) -> None:
    assert stable(load_stacks(gke_dir, raw=True)[name]) == snapshot(extension_class=LineSnapshots)


def test_existing_cluster_stack_snapshot(existing_dir: Path, snapshot: SnapshotAssertion) -> None:
    assert stable(load_stacks(existing_dir, raw=True)["dev_cluster"]) == snapshot(extension_class=LineSnapshots)

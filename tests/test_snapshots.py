"""One snapshot per synthesized stack (each environment's platform and cluster stack): every change shows in review.

A snapshot proves nothing by itself (the targeted tests do that); it makes changes visible. After an
intended change, refresh with ``make snapshots`` (``make snapshots FLIGHTDECK_CDK=cdktn`` for the other
line) and review the diff of ``tests/__snapshots__``. Each CDK line has its own snapshots
(``tests/__snapshots__/<line>/``, laid out by ``tests/line_snapshots.py``): the lines pin different
provider majors. Snapshots compare the files exactly as written (``raw_stack``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from syrupy.assertion import SnapshotAssertion

from .line_snapshots import stable


def raw_stack(outdir: Path, name: str) -> Any:
    """One stack exactly as written (the others are not read)."""
    return json.loads((outdir / "stacks" / name / "cdk.tf.json").read_text())


STACKS = [f"{env}_{part}" for env in ("dev", "qa", "prod") for part in ("platform", "cluster")]


@pytest.mark.parametrize("name", STACKS)
def test_stack_snapshot(synth_dir: Path, name: str, snapshot: SnapshotAssertion) -> None:
    assert stable(raw_stack(synth_dir, name)) == snapshot


def test_bootstrap_snapshot(synth_dir: Path, snapshot: SnapshotAssertion) -> None:
    assert stable(raw_stack(synth_dir, "bootstrap")) == snapshot


@pytest.mark.parametrize("name", STACKS)
def test_gke_stack_snapshot(gke_dir: Path, name: str, snapshot: SnapshotAssertion) -> None:
    assert stable(raw_stack(gke_dir, name)) == snapshot


def test_existing_cluster_stack_snapshot(existing_dir: Path, snapshot: SnapshotAssertion) -> None:
    assert stable(raw_stack(existing_dir, "dev_cluster")) == snapshot

"""Your environments, checked generically (``make verify``): for every file in ``environments/``,
its stacks were synthesized, no secret is written into them, every pod lands on a pool that exists
and can grow, the system nodes at their minimum hold every Airflow and add-on, and each stack
matches its snapshot (refresh after an intended change with ``make verify-snapshots``, then review
the diff). The policy scan runs before, as ``make check``. The product's own tests (``make test``)
never read these files.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from syrupy.assertion import SnapshotAssertion

from tests.conftest import compose, load_stacks
from tests.line_snapshots import stable
from tests.test_placement import check_placement, check_system_pool
from tests.test_secret_hygiene import helm_values, literal_secrets

from .conftest import configs


def composed(synthesized: dict, env: str) -> dict:
    config = configs()[env]
    platform = synthesized.get(config.stack_name("platform")) if "platform" in config.stack_parts else None
    return compose(platform, synthesized[config.stack_name("cluster")])


def test_it_synthesized(synthesized: dict, env: str) -> None:
    config = configs()[env]
    for part in config.stack_parts:
        assert synthesized[config.stack_name(part)]["resource"], f"{config.stack_name(part)} has no resources"


def test_no_secret_is_written_into_it(synthesized: dict, env: str) -> None:
    stack = composed(synthesized, env)
    assert literal_secrets(stack) == []
    assert literal_secrets(helm_values(stack)) == []


def test_every_pod_lands_on_a_pool_that_can_grow(synthesized: dict, env: str) -> None:
    config = configs()[env]
    if config.cloud != "aws":
        pytest.skip(f"{env}: the placement cross-check models EKS node groups and Karpenter's NodePools ({config.cloud} has its own tests)")
    check_placement(composed(synthesized, env), config)


def test_the_system_nodes_hold_every_airflow_and_add_on(synthesized: dict, env: str) -> None:
    config = configs()[env]
    if config.cloud != "aws":
        pytest.skip(f"{env}: the system-pool model is EKS's (GKE's system pool autoscales)")
    check_system_pool(composed(synthesized, env), config)


def test_its_stacks_match_their_snapshots(synthesized: dict, outdir: Path, env: str, snapshot: SnapshotAssertion) -> None:
    config = configs()[env]
    written = load_stacks(outdir, raw=True)  # as written: the fixture shows kubernetes 3.x metadata lists as blocks
    for part in config.stack_parts:
        assert stable(written[config.stack_name(part)]) == snapshot(name=part)

"""The files generated from or written for your environments (``make verify``): the committed
workflow is the one your environment files give, valid against GitHub's schema and clean under
zizmor; the example DAGs run in namespaces your environments place."""

from __future__ import annotations

import os
from typing import Any

from flightdeck.loader import environments_directory
from flightdeck.workflow import WORKFLOW, expected
from tests.conftest import REPO, compose
from tests.test_placement import dag_namespaces, placed_namespaces
from tests.test_workflow import schema_check, zizmor

from .conftest import configs


def test_the_committed_workflow_is_the_one_your_environments_give() -> None:
    assert WORKFLOW.read_text() == expected(environments_directory(os.environ)), "the workflow is stale: run `make workflow` and commit it"


def test_the_committed_workflow_is_valid_and_clean() -> None:
    assert schema_check(WORKFLOW) == {str(WORKFLOW): []}
    result = zizmor(WORKFLOW)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_example_dags_run_where_an_environment_places_them(synthesized: dict[str, Any]) -> None:
    placed: set[str] = set()
    for config in configs().values():
        if config.cloud == "aws":
            platform = synthesized[config.stack_name("platform")]
            placed |= set(placed_namespaces(compose(platform, synthesized[config.stack_name("cluster")])))
    for dag in sorted((REPO / "examples" / "dags").glob("*.py")):
        namespaces = dag_namespaces(dag.read_text())
        assert namespaces and set(namespaces) <= placed, f"{dag.name} runs in {namespaces}; no environment places {set(namespaces) - placed}"

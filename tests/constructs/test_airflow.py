"""The Airflow constructs on their own (``platform_constructs/airflow``): each refusal, with its whole message.

Props refuse what their construct cannot build as they are made, before any binding loads; a
refusal that needs the construct itself is reached by building it in a stack of its own.
"""

from __future__ import annotations

import pytest

from platform_constructs.airflow.hibernation import HibernationProps

from .refusal import Refusals, refused_with


def hibernation(sleep: str, wake: str) -> HibernationProps:
    return HibernationProps(namespace="airflow", image="airflow:3", sleep=sleep, wake=wake, pod_labels={"app": "hibernation"})


REFUSED: Refusals = {
    "hibernation sleeping and waking at once": (
        lambda: hibernation("0 20 * * 1-5", "0 20 * * 1-5"),
        "hibernation sleeps and wakes at the same time (0 20 * * 1-5)",
    ),
}


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_airflow_constructs_refuse_what_they_cannot_build(case: str) -> None:
    make, message = REFUSED[case]
    assert refused_with(make) == message


def test_props_within_their_limits_are_accepted() -> None:
    hibernation("0 20 * * 1-5", "0 7 * * 1-5")

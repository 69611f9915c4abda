"""One way to state a construct's refusals: a table of what is refused, each with its whole message."""

from __future__ import annotations

from collections.abc import Callable

import pytest

Refusals = dict[str, tuple[Callable[[], object], str]]
"""Case name: (what builds the refused props or construct, the whole message of its ValueError)."""


def refused_with(make: Callable[[], object]) -> str:
    """The message of the ValueError ``make`` raises (the test fails if it raises none)."""
    with pytest.raises(ValueError) as refused:
        make()
    return str(refused.value)

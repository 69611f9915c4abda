"""The snapshot layout of both test suites (``tests/`` and ``verify/environments/``): JSON, per CDK line.

``pytest.ini`` makes :class:`LineSnapshots` syrupy's default extension, so every ``snapshot`` fixture
reads and writes ``__snapshots__/<line>/<test module>/<test>.json`` beside its test module and looks
for unused snapshots only in its own line's folder: the other line's files are neither reported as
unused (which fails the session) nor deleted by ``--snapshot-update``. The lines pin different
provider majors, so their synthesized JSON differs (README, "Two CDK lines").
"""

from __future__ import annotations

import copy
import os
from pathlib import Path
from typing import Any

from syrupy.extensions.json import JSONSnapshotExtension
from syrupy.location import PyTestLocation

from flightdeck.cdk_line import selected

LINE = selected(os.environ)


class LineSnapshots(JSONSnapshotExtension):
    """JSON snapshots in ``__snapshots__/<line>/<test module>/`` beside the test module."""

    @classmethod
    def dirname(cls, *, test_location: PyTestLocation) -> str:
        return str(Path(test_location.filepath).parent / "__snapshots__" / LINE.name / test_location.basename)


def stable(stack: dict[str, Any]) -> dict[str, Any]:
    """The stack with the CDK version stubbed, so upgrading the toolchain alone changes nothing."""
    stack = copy.deepcopy(stack)
    stack["//"]["metadata"]["version"] = "<cdktf version>"
    return stack

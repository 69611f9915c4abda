"""How a probe runs alone (``python tests/probes/<name>.py ARG...``): its ``run(args)`` printed, then an
exit without the jsii runtime's teardown (as ``main.py`` leaves)."""

import os
import sys
from collections.abc import Callable


def run_alone(run: Callable[[list[str]], str]) -> None:
    os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
    print(run(sys.argv[1:]))
    sys.stdout.flush()
    os._exit(0)

"""Run ``main.py``'s ``main()`` for one request after another in one process, so the bindings load once.

Run by tests/conftest.py (``run_main_shared``). Each request is a JSON line on standard input:
``{"environ": {...}}``, the whole process environment of that run (``FLIGHTDECK_ENVIRONMENTS``,
``CDKTF_OUTDIR`` and the rest, as ``run_main`` would give a fresh process); each answer a JSON line
``{"returncode": int, "stdout": str, "stderr": str}`` on standard output. An exception is answered with
status 1 and its traceback, as a fresh process would end.

Every answer also says which top-level packages the process had loaded before the request and which
the request imported (``"imports": {"before": [...], "imported": [...]}``): for a synthesis that found
loaded only bindings its own stacks use, the two together are exactly the bindings a fresh
``python main.py`` of it loads (``LANE_OPENINGS`` in tests/conftest.py, tests/test_bindings.py).

A request with ``"probe": "<name>"`` and ``"args": [...]`` calls ``run(args)`` of
``tests/probes/<name>.py`` instead of ``main()``, its answer as the standard output (``run_probe``).
"""

import contextlib
import importlib.util
import io
import json
import os
import sys
import traceback

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
sys.path.insert(0, os.getcwd())

import main as flightdeck
from flightdeck.cdk_line import WRITTEN_AGAINST, activate

# The CDK line's core, and with it the jsii runtime (a Node process), loads before the first request:
# the session starts this process while it collects the tests (tests/conftest.py). Every request
# would load it first; the bindings still load only in the requests that use them.
activate(os.environ)
importlib.import_module(WRITTEN_AGAINST.core)

PROBES = os.path.join(os.getcwd(), "tests", "probes")


def probe(name: str) -> object:
    spec = importlib.util.spec_from_file_location(f"probe_{name}", os.path.join(PROBES, f"{name}.py"))
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


answers = sys.stdout
sys.stdout = sys.stderr  # anything a run prints must not mix with the answers


def loaded() -> set[str]:
    return {name.partition(".")[0] for name in list(sys.modules)}


for line in sys.stdin:
    request = json.loads(line)
    before = loaded()
    os.environ.clear()
    os.environ.update(request["environ"])
    captured, output = io.StringIO(), ""
    with contextlib.redirect_stderr(captured):
        try:
            if "probe" in request:
                output, status = probe(request["probe"]).run(request["args"]), 0  # type: ignore[attr-defined]
            else:
                status = flightdeck.main()
        except SystemExit as exit:
            status = exit.code if isinstance(exit.code, int) else 1
        except Exception:  # noqa: BLE001 -- what a fresh process would die of: reported as its traceback, status 1
            traceback.print_exc()
            status = 1
    imports = {"before": sorted(before), "imported": sorted(loaded() - before)}
    answers.write(json.dumps({"returncode": status, "stdout": output, "stderr": captured.getvalue(), "imports": imports}) + "\n")
    answers.flush()

# The session is over (standard input closed): leave without the interpreter's teardown, as main.py
# does (a jsii runtime shutting down and thousands of binding objects collected, seconds for nothing).
os._exit(0)

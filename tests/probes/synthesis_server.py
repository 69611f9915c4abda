"""Run ``main.py``'s ``main()`` for one request after another in one process, so the bindings load once.

Run by tests/conftest.py (``run_main_shared``). Each request is a JSON line on standard input:
``{"environ": {...}}``, the whole process environment of that run (``FLIGHTDECK_ENVIRONMENTS``,
``CDKTF_OUTDIR`` and the rest, as ``run_main`` would give a fresh process); each answer a JSON line
``{"returncode": int, "stderr": str}`` on standard output. An exception is answered with status 1 and
its traceback, as a fresh process would end.
"""

import contextlib
import io
import json
import os
import sys
import traceback

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
sys.path.insert(0, os.getcwd())

import main as flightdeck

answers = sys.stdout
sys.stdout = sys.stderr  # anything a run prints must not mix with the answers
for line in sys.stdin:
    request = json.loads(line)
    os.environ.clear()
    os.environ.update(request["environ"])
    captured = io.StringIO()
    with contextlib.redirect_stderr(captured):
        try:
            status = flightdeck.main()
        except SystemExit as exit:
            status = exit.code if isinstance(exit.code, int) else 1
        except Exception:  # noqa: BLE001 -- what a fresh process would die of: reported as its traceback, status 1
            traceback.print_exc()
            status = 1
    answers.write(json.dumps({"returncode": status, "stderr": captured.getvalue()}) + "\n")
    answers.flush()

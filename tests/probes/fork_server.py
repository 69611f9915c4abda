"""Run ``main.py`` in a process of its own per request, forked from one that has already imported it.

Run by tests/conftest.py (``run_main``). A fresh ``python main.py`` spends most of half a second
importing pydantic, PyYAML and the configuration models before it reads a file; most of the tests
that run ``main.py`` end in that time (a refused file, exit 2). So this process imports ``main`` once
(nothing there loads cdktf, jsii or a binding: those load inside ``main()``, after the files are
valid) and forks a child per request. The child is a process of its own, as ``python main.py`` would
be: its own environment, its own output streams, its own Node process if it gets as far as the
bindings, and an exit status it ends with itself (``main.exit_now``, as ``main.py`` does). An
exception ``main()`` does not catch ends it as the interpreter would: its traceback on standard
error, status 1.

Each request is a JSON line on standard input: ``{"environ": {...}}``, the child's whole environment;
each answer a JSON line ``{"returncode": int, "stdout": str, "stderr": str}`` on standard output. A
request with ``"module": "<name>"`` and ``"argv": [...]`` runs that module as ``python -m <name>
ARG...`` would (``flightdeck.scaffold``, whose imports this process has made too) instead of ``main()``.
"""

import json
import os
import runpy
import sys
import tempfile
import traceback

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
sys.path.insert(0, os.getcwd())

import main as flightdeck  # after the path is set, as main.py finds its packages

answers = os.fdopen(os.dup(1), "w")


def child(environ: dict[str, str], stdout: int, stderr: int, module: str | None, argv: list[str]) -> None:
    os.dup2(stdout, 1)
    os.dup2(stderr, 2)
    os.environ.clear()
    os.environ.update(environ)
    try:
        if module is None:
            status = flightdeck.main()
        else:
            sys.argv = [module, *argv]
            runpy.run_module(module, run_name="__main__", alter_sys=True)
            status = 0
    except SystemExit as exit:
        status = exit.code if isinstance(exit.code, int) else 1
    except BaseException:  # noqa: BLE001 -- what the interpreter would do with it
        traceback.print_exc()
        status = 1
    flightdeck.exit_now(status)


for line in sys.stdin:
    request = json.loads(line)
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        pid = os.fork()
        if pid == 0:
            try:
                child(request["environ"], out.fileno(), err.fileno(), request.get("module"), request.get("argv", []))
            finally:
                os._exit(1)
        _, waited = os.waitpid(pid, 0)
        streams = []
        for stream in (out, err):
            stream.seek(0)
            streams.append(stream.read().decode(errors="replace"))
    answers.write(json.dumps({"returncode": os.waitstatus_to_exitcode(waited), "stdout": streams[0], "stderr": streams[1]}) + "\n")
    answers.flush()

# The session is over (standard input closed): leave without the interpreter's teardown, as main.py
# does (a jsii runtime shutting down and thousands of binding objects collected, seconds for nothing).
os._exit(0)

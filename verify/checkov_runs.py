"""checkov runs that share one import of checkov (about 3.5 s of each run's start on the development machine).

    python -m verify.checkov_runs '[[folder, arg, ...], ...]'

Imports checkov once, then forks a process per run: the child changes to the run's folder, writes
checkov's standard output to ``<folder>.out`` and its standard error to ``<folder>.err`` beside it,
runs checkov with the arguments given and leaves with checkov's exit status, as the ``checkov``
command would (an exception checkov does not catch is its traceback and status 1); nothing a run
does reaches the next. Prints each run's exit status, as a JSON list in the runs' order. Used by
``verify/policy.py`` (``scan_runs``).
"""

from __future__ import annotations

import json
import os
import sys
import traceback
import warnings


def _child(folder: str, arguments: list[str]) -> None:
    for stream, suffix in ((1, "out"), (2, "err")):
        with open(f"{folder}.{suffix}", "wb") as file:
            os.dup2(file.fileno(), stream)
    os.chdir(folder)
    from checkov.main import Checkov

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", category=SyntaxWarning)
            status = Checkov(arguments).run() or 0
    except SystemExit as exit:
        status = exit.code if isinstance(exit.code, int) else 1
    except BaseException:  # noqa: BLE001 -- what the checkov command would die of
        traceback.print_exc()
        status = 1
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)


def main(runs: list[list[str]]) -> list[int]:
    import checkov.main  # noqa: F401 -- imported once here, for every run forked below

    statuses = []
    for folder, *arguments in runs:
        pid = os.fork()
        if pid == 0:
            try:
                _child(folder, arguments)
            finally:
                os._exit(70)
        _, waited = os.waitpid(pid, 0)
        statuses.append(os.waitstatus_to_exitcode(waited))
    return statuses


if __name__ == "__main__":
    print(json.dumps(main(json.loads(sys.argv[1]))))

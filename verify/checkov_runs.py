"""checkov runs that share one import of checkov (about 4 s of each run's start on the development machine).

    python -m verify.checkov_runs <<< '[[folder, arg, ...], ...]'

Imports checkov once, then reads the runs (a JSON list, on standard input), then forks a process per
run. The runs are read only once checkov is imported, so a caller may start this process before it
knows them (``verify/policy.py``, ``checkov_process``) and the import overlaps whatever it waits for.
Each run's process: the child changes to the run's folder, writes
checkov's standard output to ``<folder>.out`` and its standard error to ``<folder>.err`` beside it,
runs checkov with the arguments given and leaves with checkov's exit status, as the ``checkov``
command would (an exception checkov does not catch is its traceback and status 1); nothing a run
does reaches the next. Prints each run's exit status, as a JSON list in the runs' order. Used by
``verify/policy.py`` (``scan_runs``).

checkov reads each ``terraform_json`` file with a YAML loader that records every mapping's first and
last line (``SafeLineLoader``), on PyYAML's pure-Python parser: about 40% of a scan. The runs read
them with the same loader on libyaml's parser instead (``line_loader``), which gives the same
documents, line numbers included (``tests/test_policy.py`` compares the two).
"""

from __future__ import annotations

import json
import os
import sys
import traceback
import warnings
from collections.abc import Callable, Hashable
from typing import Any

import yaml


def line_loader() -> type[yaml.CSafeLoader] | None:
    """checkov's ``SafeLineLoader`` on libyaml's parser, or None where PyYAML was built without libyaml."""
    from checkov.common.parsers.yaml import loader

    if not hasattr(yaml, "CSafeLoader"):
        return None

    class CSafeLineLoader(yaml.CSafeLoader):
        bool_values = loader.SafeLineLoader.bool_values  # checkov's: "on" stays a string (GitHub workflows)

        def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Hashable, Any]:
            mapping: dict[Hashable, Any] = super().construct_mapping(node, deep=deep)
            mapping["__startline__"] = node.start_mark.line + 1
            mapping["__endline__"] = node.end_mark.line + 1
            return mapping

    return CSafeLineLoader


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


def main(read_runs: Callable[[], list[list[str]]]) -> list[int]:
    """Imports checkov, then runs what ``read_runs`` returns; each run's exit status."""
    import checkov.main  # noqa: F401 -- imported once here, for every run forked below
    from checkov.common.parsers.yaml import loader

    faster = line_loader()
    if faster is not None:
        loader.SafeLineLoader = faster  # type: ignore[assignment,misc]  # read by loader.loads at each call

    runs = read_runs()
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
    print(json.dumps(main(lambda: json.loads(sys.stdin.read()))))

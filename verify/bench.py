"""Synthesis cost on both CDK lines, each against its own floor, and the test suite's against one
synthesis (``make bench``).

    python -m verify.bench [repetitions] [--without-suite]

For each CDK line whose virtual environment is installed (cdktf: ``.venv``, cdktn:
``cdk-lines/cdktn/.venv``; ``make bench`` installs both), interleaves repetitions of (a) synthesizing
every environment (``main.py`` with ``FLIGHTDECK_CDK`` set to the line) and (b) that line's floor: a
process that only imports the line's core package and the provider bindings those environments use,
and exits. The lines alternate inside every repetition, so a slow moment of the machine falls on
both. Prints the median wall time and median peak memory of each, each line against its floor, and
the lines against each other. Peak memory is the largest sum of resident memory over the whole
process tree (Python and its Node child), sampled every 20 ms.

Unless ``--without-suite`` is given, every repetition also runs ``make test`` on the default line,
right after that line's synthesis of the shipped environments, and the suite's median is reported
against the synthesis's (issue 20 asks for at most 3x). The suite runs exactly as ``make test``
does, with its own temporary folders; a failing suite fails the benchmark.

Run it on a quiet machine; it is a measurement, never a test.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from flightdeck.cdk_line import DEFAULT, LINES, VARIABLE, WRITTEN_AGAINST, Line
from flightdeck.manifest import synthesized_stacks

REPO = Path(__file__).resolve().parent.parent
PAGE_KB = os.sysconf("SC_PAGE_SIZE") // 1024


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            tree.setdefault(ppid, []).append(int(entry))
    return tree


def tree_rss_kb(root: int) -> int:
    tree = _children()
    total, stack = 0, [root]
    while stack:
        pid = stack.pop()
        try:
            total += int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE_KB
        except OSError:
            pass
        stack.extend(tree.get(pid, []))
    return total


def measure(command: list[str], env: dict[str, str], interval: float = 0.02) -> tuple[float, int]:
    """Wall seconds and peak tree RSS (KiB) of one run, its memory sampled every ``interval`` seconds
    (a sample reads all of /proc: about 2.5 ms of CPU)."""
    with tempfile.TemporaryFile() as output:
        started = time.perf_counter()
        process = subprocess.Popen(command, cwd=REPO, env=env, stdout=output, stderr=subprocess.STDOUT)
        peak = 0
        while process.poll() is None:
            peak = max(peak, tree_rss_kb(process.pid))
            time.sleep(interval)
        wall = time.perf_counter() - started
        if process.returncode != 0:
            output.seek(0)
            raise RuntimeError(f"{' '.join(command)} failed (status {process.returncode}):\n{output.read().decode(errors='replace')[-3000:]}")
    return wall, peak


def python_of(line: Line) -> Path:
    return REPO / line.venv / "bin" / "python"


def floor_command(line: Line, providers: list[str]) -> list[str]:
    """A process that selects the line as main.py does (``flightdeck.cdk_line.activate``: on cdktf, the
    bindings' resource modules load when used), imports its core and the given providers' bindings,
    then leaves as main.py does."""
    written = WRITTEN_AGAINST
    imports = "; ".join([f"import {written.core}", *(f"import {written.provider_package(p)}.provider" for p in providers)])
    select = f"import os, sys; sys.path.insert(0, {str(REPO)!r}); from flightdeck.cdk_line import activate; activate(os.environ)"
    return [str(python_of(line)), "-c", f"{select}; {imports}; sys.stdout.flush(); os._exit(0)"]


@dataclass
class Runs:
    line: Line
    env: dict[str, str]
    synth: list[tuple[float, int]] = field(default_factory=list)
    floor: list[tuple[float, int]] = field(default_factory=list)
    suite: list[tuple[float, int]] = field(default_factory=list)

    @property
    def synth_command(self) -> list[str]:
        return [str(python_of(self.line)), str(REPO / "main.py")]

    @property
    def suite_command(self) -> list[str]:
        """``make test`` on the line, as a user types it (its environment is installed: no install runs)."""
        return ["make", "--no-print-directory", "test", f"{VARIABLE}={self.line.name}"]


def _median(runs: list[tuple[float, int]]) -> tuple[float, float]:
    return statistics.median(w for w, _ in runs), statistics.median(m for _, m in runs) / 1024


def main(argv: list[str]) -> int:
    with_suite = "--without-suite" not in argv
    numbers = [a for a in argv[1:] if a != "--without-suite"]
    if len(numbers) > 1 or (numbers and not numbers[0].isdigit()) or (numbers and int(numbers[0]) < 1):
        print("usage: python -m verify.bench [repetitions] [--without-suite]", file=sys.stderr)
        return 2
    repetitions = int(numbers[0]) if numbers else 5
    # The shipped environments, as a fresh shell synthesizes them: no other folder, no overrides, no line.
    base = {k: v for k, v in os.environ.items() if not k.startswith("FLIGHTDECK_")}
    base["JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION"] = "20"
    # Steady state, as on a user's machine: the warm-up writes the bytecode of every module a run
    # imports (the cdktn line is installed without it, and some shells turn writing it off).
    base.pop("PYTHONDONTWRITEBYTECODE", None)
    lines = [line for line in LINES.values() if python_of(line).exists()]
    missing = sorted(set(LINES) - {line.name for line in lines})
    if missing:
        print(f"not measured (no virtual environment): {', '.join(missing)}; `make bench` installs every line", file=sys.stderr)
    if not lines:
        return 1
    with tempfile.TemporaryDirectory(prefix="flightdeck-bench-") as tmp:
        all_runs = [
            Runs(line, {**base, VARIABLE: line.name, "CDKTF_OUTDIR": str(Path(tmp) / line.name / "cdktf.out")}) for line in lines
        ]
        providers = []
        for runs in all_runs:
            Path(runs.env["CDKTF_OUTDIR"]).parent.mkdir(parents=True)
            measure(runs.synth_command, runs.env)  # warm-up: fills the jsii package cache and the OS file cache
            if with_suite and runs.line.name == DEFAULT:
                measure(runs.suite_command, runs.env, interval=0.2)  # and writes the bytecode of what the suite imports
            stacks = synthesized_stacks(Path(runs.env["CDKTF_OUTDIR"]))
            providers = sorted({name for f in stacks.values() for name in json.loads(f.read_text())["terraform"]["required_providers"]})
        for _ in range(repetitions):
            for runs in all_runs:
                runs.synth.append(measure(runs.synth_command, runs.env))
                if with_suite and runs.line.name == DEFAULT:
                    # Sampled ten times less often: at 20 ms the sampling is a tenth of a core, which
                    # the suite, using both, would pay for and a synthesis mostly would not.
                    runs.suite.append(measure(runs.suite_command, runs.env, interval=0.2))
                runs.floor.append(measure(floor_command(runs.line, providers), runs.env))
    print(f"bindings: {', '.join(providers)}; {repetitions} interleaved repetitions, medians; default line {DEFAULT}")
    for runs in all_runs:
        (synth_wall, synth_mem), (floor_wall, floor_mem) = _median(runs.synth), _median(runs.floor)
        name = runs.line.name
        print(f"{name} synthesis of all environments: {synth_wall:6.2f} s  {synth_mem:7.0f} MiB peak")
        print(f"{name} floor (imports only):          {floor_wall:6.2f} s  {floor_mem:7.0f} MiB peak")
        print(f"{name} against its floor:             {synth_wall / floor_wall:6.2f} x  {synth_mem / floor_mem:7.2f} x")
        if runs.suite:
            suite_wall, suite_mem = _median(runs.suite)
            ratios = ", ".join(f"{wall / synth:.2f}" for (wall, _), (synth, _) in zip(runs.suite, runs.synth, strict=True))
            print(f"{name} make test:                     {suite_wall:6.2f} s  {suite_mem:7.0f} MiB peak")
            print(f"{name} make test against synthesis:   {suite_wall / synth_wall:6.2f} x  (each repetition: {ratios})")
    if len(all_runs) == 2:
        (a_wall, a_mem), (b_wall, b_mem) = _median(all_runs[1].synth), _median(all_runs[0].synth)
        print(f"{all_runs[1].line.name} against {all_runs[0].line.name} (synthesis):    {a_wall / b_wall:6.2f} x  {a_mem / b_mem:7.2f} x")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

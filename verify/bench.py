"""Synthesis cost against its floor (``make bench``).

    python -m verify.bench [repetitions]

Interleaves repetitions of (a) synthesizing every environment (``python main.py``) and (b) the
floor: a process that only imports cdktf and the provider bindings those environments use, and
exits. Prints the median wall time and median peak memory of each and their ratios. Peak memory
is the largest sum of resident memory over the whole process tree (Python and its Node child),
sampled every 20 ms.

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
from pathlib import Path

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


def measure(command: list[str], env: dict[str, str]) -> tuple[float, int]:
    """Wall seconds and peak tree RSS (KiB) of one run."""
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peak = 0
    while process.poll() is None:
        peak = max(peak, tree_rss_kb(process.pid))
        time.sleep(0.02)
    wall = time.perf_counter() - started
    if process.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed: {process.stderr.read().decode()[-2000:] if process.stderr else ''}")
    return wall, peak


def floor_command(providers: list[str]) -> list[str]:
    """A process that imports cdktf and the given providers' bindings, then leaves as main.py does."""
    imports = "; ".join(["import cdktf", *(f"import cdktf_cdktf_provider_{p}.provider" for p in providers)])
    return [sys.executable, "-c", f"{imports}; import os, sys; sys.stdout.flush(); os._exit(0)"]


def main(argv: list[str]) -> int:
    repetitions = int(argv[1]) if len(argv) > 1 else 5
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLIGHTDECK_SET")}
    env["JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION"] = "20"
    with tempfile.TemporaryDirectory(prefix="flightdeck-bench-") as tmp:
        env["CDKTF_OUTDIR"] = str(Path(tmp) / "cdktf.out")
        synth_command = [sys.executable, str(REPO / "main.py")]
        measure(synth_command, env)  # warm-up: fills the jsii package cache and the OS file cache
        providers = sorted(
            {
                name
                for stack_file in synthesized_stacks(Path(tmp) / "cdktf.out").values()
                for name in json.loads(stack_file.read_text())["terraform"]["required_providers"]
            }
        )
        floor = floor_command(providers)
        synth_runs, floor_runs = [], []
        for _ in range(repetitions):
            synth_runs.append(measure(synth_command, env))
            floor_runs.append(measure(floor, env))
    synth_wall = statistics.median(w for w, _ in synth_runs)
    floor_wall = statistics.median(w for w, _ in floor_runs)
    synth_mem = statistics.median(m for _, m in synth_runs)
    floor_mem = statistics.median(m for _, m in floor_runs)
    print(f"bindings: {', '.join(providers)}; {repetitions} interleaved repetitions, medians")
    print(f"synthesis of all environments: {synth_wall:6.2f} s  {synth_mem / 1024:7.0f} MiB peak")
    print(f"floor (imports only):          {floor_wall:6.2f} s  {floor_mem / 1024:7.0f} MiB peak")
    print(f"ratio:                         {synth_wall / floor_wall:6.2f} x  {synth_mem / floor_mem:7.2f} x")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

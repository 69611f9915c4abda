"""checkov over each synthesized stack, with the project's skips (``make check``), as the last synthesis's manifest lists them.

    python -m verify.policy [cdktf.out]

checkov runs without the skips, so each finding is sorted: *skipped* if ``.checkov.yaml`` lists it
(with its reason), *failed* otherwise. A skip that no longer matches any finding is reported too,
so the skip list cannot rot. Prod must have no failed check.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from flightdeck.manifest import synthesized_stacks

REPO = Path(__file__).resolve().parent.parent
CONFIG = REPO / ".checkov.yaml"
SKIP_LINE = re.compile(r"^\s*-\s*(CKV2?_[A-Z0-9_]+)\s*#\s*(\S.*)$")


@dataclass(frozen=True)
class Finding:
    check: str
    resource: str
    name: str


@dataclass(frozen=True)
class Report:
    env: str
    """The stack's name (``prod_platform``)."""
    passed: int
    failed: list[Finding]
    skipped: list[Finding]


def skips() -> dict[str, str]:
    """Check id → reason, from the comments in ``.checkov.yaml`` (every skip must have one)."""
    config = yaml.safe_load(CONFIG.read_text())
    reasons = {m.group(1): m.group(2) for m in map(SKIP_LINE.match, CONFIG.read_text().splitlines()) if m}
    listed = config.get("skip-check", [])
    missing = [check for check in listed if check not in reasons]
    if missing:
        raise ValueError(f"{CONFIG.name}: skips without a reason: {', '.join(missing)}")
    return {check: reasons[check] for check in listed}


def scan(stack_file: Path) -> Report:
    return scan_all([stack_file])[0]


def scan_all(stack_files: Sequence[Path]) -> list[Report]:
    """One report per stack, in order, from one checkov run: checkov takes seconds to start and
    less than a second per stack, and counts every check by the file it ran on."""
    return scan_runs([stack_files])[0]


def checkov_process(base: Mapping[str, str] = os.environ) -> subprocess.Popen[str]:
    """A ``verify/checkov_runs.py`` process, importing checkov at once and then waiting for its runs
    (``scan_runs``), in ``base`` (by default this process's environment). Started before the stacks
    it will scan exist, its import (seconds) overlaps their synthesis."""
    return subprocess.Popen(
        [sys.executable, "-m", "verify.checkov_runs"],
        # An environment of its own, never the process's live one: a child exec'ing that while
        # another thread sets a variable (which reallocates it) fails with EFAULT.
        cwd=REPO, env=dict(base), stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def scan_runs(
    runs: Sequence[Sequence[Path]], base: Mapping[str, str] = os.environ, process: subprocess.Popen[str] | None = None
) -> list[list[Report]]:
    """Each run's reports (``scan_all``), every run a checkov process of its own, forked from one that
    has imported checkov (``process``, from ``checkov_process``; by default one started now in
    ``base``): a second run costs its scan, not checkov's start."""
    config = yaml.safe_load(CONFIG.read_text())
    arguments = ["-d", ".", "--framework", *config["framework"], "--skip-download", "--compact", "-o", "json"]
    runner = process if process is not None else checkov_process(base)
    with tempfile.TemporaryDirectory() as tmp:
        # checkov scans folders; copies keep it away from the rest of each stack's directory, and a
        # folder per stack keeps two stacks of one name (from two syntheses) apart. Each run's folder
        # is its working directory, away from the repository: checkov would otherwise load
        # .checkov.yaml and drop the skips. Not --quiet: the passed checks are listed too, and counted per stack.
        folders = []
        for number, stack_files in enumerate(runs):
            folder = Path(tmp) / f"run{number}"
            folder.mkdir()
            for index, stack_file in enumerate(stack_files):
                (folder / _copy(index, stack_file)).mkdir()
                (folder / _copy(index, stack_file) / "cdk.tf.json").write_text(stack_file.read_text())
            folders.append(folder)
        try:
            stdout, stderr = runner.communicate(json.dumps([[str(folder), *arguments] for folder in folders]), timeout=600)
        except subprocess.TimeoutExpired:
            runner.kill()
            raise
        statuses = json.loads(stdout) if runner.returncode == 0 else []
        if len(statuses) != len(runs):
            raise RuntimeError(f"checkov did not run (status {runner.returncode}): {stderr[-2000:]}")
        for status, folder, stack_files in zip(statuses, folders, runs, strict=True):
            if status not in (0, 1):  # 1: failed checks, which the reports list
                errors = Path(f"{folder}.err").read_text()[-2000:]
                raise RuntimeError(f"checkov failed (status {status}) on {', '.join(map(str, stack_files))}: {errors}")
        outputs = [json.loads(Path(f"{folder}.out").read_text()) for folder in folders]
    return [_reports(stack_files, output) for stack_files, output in zip(runs, outputs, strict=True)]


def _copy(index: int, stack_file: Path) -> str:
    """The folder a run's ``index``-th stack is copied to, and which checkov names in its findings."""
    return f"{index}-{stack_file.parent.name}"


def _reports(stack_files: Sequence[Path], output: Any) -> list[Report]:
    """One report per stack of a run, from checkov's JSON output for that run."""
    output = output[0] if isinstance(output, list) else output
    results = output.get("results", {})
    listed = skips()
    reports = []
    for index, stack_file in enumerate(stack_files):
        path = f"/{_copy(index, stack_file)}/cdk.tf.json"
        # Sorted: checkov lists them in no fixed order from run to run.
        findings = sorted(
            (Finding(c["check_id"], c["resource"], c["check_name"]) for c in results.get("failed_checks", []) if c["file_path"] == path),
            key=lambda finding: (finding.check, finding.resource),
        )
        reports.append(
            Report(
                env=stack_file.parent.name,
                passed=sum(1 for c in results.get("passed_checks", []) if c["file_path"] == path),
                failed=[f for f in findings if f.check not in listed],
                skipped=[f for f in findings if f.check in listed],
            )
        )
    return reports


def main(argv: list[str]) -> int:
    outdir = Path(argv[1] if len(argv) > 1 else "cdktf.out")
    files = list(synthesized_stacks(outdir).values())
    if not files:
        print(f"no synthesized stacks in {outdir}/manifest.json (run make synth)", file=sys.stderr)
        return 2
    reasons = skips()
    reports = scan_all(files)
    for report in reports:
        print(f"{report.env:<14} passed {report.passed:>4}  failed {len(report.failed):>3}  skipped {len(report.skipped):>3}")
        for finding in report.failed:
            print(f"           FAILED  {finding.check} {finding.resource}: {finding.name}")
    used = {f.check for r in reports for f in r.skipped}
    for check, reason in reasons.items():
        unused = "  (matches nothing in these stacks; tests/test_policy.py checks it matches in AWS or GKE prod)"
        print(f"skip {check}: {reason}" + ("" if check in used else unused))
    prod_failed = [r for r in reports if r.env.startswith("prod_") and r.failed]
    return 1 if prod_failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

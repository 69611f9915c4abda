"""checkov policy scan: prod passes with zero failed checks; every skip has a reason and is needed."""

from __future__ import annotations

from pathlib import Path
from typing import cast

import pytest

from verify.checkov_runs import line_loader
from verify.policy import CONFIG, Report, scan_runs, skips

from .conftest import ENVIRON, background, head_start, synthesized_by


def environment_stacks(outdir: Path, env: str) -> list[Path]:
    """Both of an environment's stacks."""
    return [outdir / "stacks" / f"{env}_{part}" / "cdk.tf.json" for part in ("platform", "cluster")]


@background("policy_reports", 4.8, needs=("synth_dir", "gke_dir"))
def _policy_reports(work: Path) -> dict[str, list[Report]]:
    """The fixture's prod and bootstrap, and the GKE fixture's prod, in one checkov run; and the
    bootstrap in a run of its own (``alone``), to compare."""
    aws, gke = synthesized_by("synth_dir"), synthesized_by("gke_dir")
    bootstrap = aws / "stacks" / "bootstrap" / "cdk.tf.json"
    runs = [[*environment_stacks(aws, "prod"), *environment_stacks(gke, "prod"), bootstrap], [bootstrap]]
    # checkov was imported as the session began, where it runs the whole suite (conftest, head starts).
    reports, alone = scan_runs(runs, ENVIRON, process=head_start("checkov"))
    return {"prod": reports[0:2], "gke_prod": reports[2:4], "bootstrap": reports[4:], "alone": alone}


def test_checkov_reads_a_stack_on_libyaml_as_its_own_loader_does(synth_dir: Path) -> None:
    import yaml
    from checkov.common.parsers.yaml import loader

    faster = line_loader()
    if faster is None:
        pytest.skip("PyYAML was built without libyaml: the scans use checkov's own loader")
    edge_cases = (
        '{\n  "a": {"on": "on", "off": "off", "yes": true, "n": 1.50, "e": 1e3, "null": null},\n'
        '  "list": [{"x": "multi\\nline"}, [], {}, "\\u00e9t\\u00e9"],\n  "empty": ""\n}\n'
    )
    for text in ((synth_dir / "stacks" / "bootstrap" / "cdk.tf.json").read_text(), edge_cases):
        theirs = list(yaml.load_all(text, Loader=loader.SafeLineLoader))
        ours = list(yaml.load_all(text, Loader=faster))
        assert ours == theirs and repr(ours) == repr(theirs)  # the same values, types, key order and lines
    assert (theirs[0]["__startline__"], theirs[0]["__endline__"]) == (1, 5) and theirs[0]["a"]["on"] == "on"


def test_one_run_reports_each_stack_as_a_run_of_its_own(policy_reports: dict[str, list[Report]], bootstrap_report: Report) -> None:
    """checkov counts each check by the file it ran on: a stack scanned with others gets the report it
    gets alone, and two stacks of one name (AWS's and GKE's prod_platform) stay apart."""
    assert policy_reports["alone"] == [bootstrap_report]
    prod, gke_prod = policy_reports["prod"], policy_reports["gke_prod"]
    assert prod[0].env == gke_prod[0].env == "prod_platform" and prod[0] != gke_prod[0]


@pytest.fixture(scope="module")
def policy_reports() -> dict[str, list[Report]]:
    return cast(dict[str, list[Report]], synthesized_by("policy_reports"))


@pytest.fixture(scope="module")
def prod_report(policy_reports: dict[str, list[Report]]) -> list[Report]:
    return policy_reports["prod"]


def test_prod_has_no_failed_check(prod_report: list[Report]) -> None:
    assert [f"{r.env}: {f.check} {f.resource}: {f.name}" for r in prod_report for f in r.failed] == []
    platform, cluster = prod_report
    assert platform.passed > 150 and cluster.passed > 10


@pytest.fixture(scope="module")
def gke_prod_report(policy_reports: dict[str, list[Report]]) -> list[Report]:
    return policy_reports["gke_prod"]


@pytest.fixture(scope="module")
def bootstrap_report(policy_reports: dict[str, list[Report]]) -> Report:
    (report,) = policy_reports["bootstrap"]
    return report


def test_gke_prod_has_no_failed_check(gke_prod_report: list[Report]) -> None:
    assert [f"{r.env}: {f.check} {f.resource}: {f.name}" for r in gke_prod_report for f in r.failed] == []
    assert sum(r.passed for r in gke_prod_report) > 100


def test_every_skip_has_a_reason_and_still_matches_something(prod_report: list[Report], gke_prod_report: list[Report]) -> None:
    reasons = skips()
    assert all(len(reason) > 20 for reason in reasons.values())
    matched = {f.check for r in [*prod_report, *gke_prod_report] for f in r.skipped}
    assert matched == set(reasons), "a skip that matches nothing should be removed"


def test_a_skip_without_a_reason_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / ".checkov.yaml"
    config.write_text("framework: [terraform_json]\nskip-check:\n  - CKV_AWS_18\n")
    monkeypatch.setattr("verify.policy.CONFIG", config)
    with pytest.raises(ValueError, match="skips without a reason: CKV_AWS_18"):
        skips()
    assert CONFIG.name == ".checkov.yaml"


def test_bootstrap_has_no_failed_check(bootstrap_report: Report) -> None:
    report = bootstrap_report
    assert [f"{f.check} {f.resource}: {f.name}" for f in report.failed] == []
    assert report.passed > 100

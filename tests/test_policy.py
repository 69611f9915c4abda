"""checkov policy scan: prod passes with zero failed checks; every skip has a reason and is needed."""

from __future__ import annotations

from pathlib import Path
from typing import cast

import pytest

from verify.policy import CONFIG, Report, scan, skips

from .conftest import background, synthesized_by


def scan_environment(outdir: Path, env: str) -> list[Report]:
    """checkov over both of an environment's stacks."""
    return [scan(outdir / "stacks" / f"{env}_{part}" / "cdk.tf.json") for part in ("platform", "cluster")]


@background("prod_report", 10, needs=("synth_dir",))
def _prod_report(work: Path) -> list[Report]:
    return scan_environment(synthesized_by("synth_dir"), "prod")


@background("gke_prod_report", 9, needs=("gke_dir",))
def _gke_prod_report(work: Path) -> list[Report]:
    return scan_environment(synthesized_by("gke_dir"), "prod")


@background("bootstrap_report", 4, needs=("synth_dir",))
def _bootstrap_report(work: Path) -> Report:
    return scan(synthesized_by("synth_dir") / "stacks" / "bootstrap" / "cdk.tf.json")


@pytest.fixture(scope="module")
def prod_report() -> list[Report]:
    return cast(list[Report], synthesized_by("prod_report"))


def test_prod_has_no_failed_check(prod_report: list[Report]) -> None:
    assert [f"{r.env}: {f.check} {f.resource}: {f.name}" for r in prod_report for f in r.failed] == []
    platform, cluster = prod_report
    assert platform.passed > 150 and cluster.passed > 10


@pytest.fixture(scope="module")
def gke_prod_report() -> list[Report]:
    return cast(list[Report], synthesized_by("gke_prod_report"))


@pytest.fixture(scope="module")
def bootstrap_report() -> Report:
    return cast(Report, synthesized_by("bootstrap_report"))


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

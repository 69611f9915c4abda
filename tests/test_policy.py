"""checkov policy scan: prod passes with zero failed checks; every skip has a reason and is needed."""

from __future__ import annotations

from pathlib import Path

import pytest

from verify.policy import CONFIG, Report, scan, skips


def scan_environment(outdir: Path, env: str) -> list[Report]:
    """checkov over both of an environment's stacks."""
    return [scan(outdir / "stacks" / f"{env}_{part}" / "cdk.tf.json") for part in ("platform", "cluster")]


@pytest.fixture(scope="module")
def prod_report(synth_dir: Path) -> list[Report]:
    return scan_environment(synth_dir, "prod")


def test_prod_has_no_failed_check(prod_report: list[Report]) -> None:
    assert [f"{r.env}: {f.check} {f.resource}: {f.name}" for r in prod_report for f in r.failed] == []
    platform, cluster = prod_report
    assert platform.passed > 150 and cluster.passed > 10


@pytest.fixture(scope="module")
def gke_prod_report(gke_dir: Path) -> list[Report]:
    return scan_environment(gke_dir, "prod")


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


def test_bootstrap_has_no_failed_check(synth_dir: Path) -> None:
    report = scan(synth_dir / "stacks" / "bootstrap" / "cdk.tf.json")
    assert [f"{f.check} {f.resource}: {f.name}" for f in report.failed] == []
    assert report.passed > 100

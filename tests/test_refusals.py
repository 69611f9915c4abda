"""Environment files that would open a path beyond what the platform gives: refused with file and field.

Each case breaks this module's own fixtures (``tests/fixtures/trust``) in one place and runs
``main.py`` as a user would: exit status 2, exactly one message naming the file and the field, no
traceback, and nothing written (what an earlier synthesis left stays). Where a dangerous setting
has a legitimate use, the opt-in that admits it is tested too.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from flightdeck.loader import load_environments

from .conftest import TRUST, dump_yaml, parse_yaml, run_main

FIXTURES = TRUST


@pytest.fixture
def trust_dir(tmp_path: Path) -> Path:
    target = tmp_path / "environments"
    shutil.copytree(FIXTURES, target)
    return target


def setting(path: str, value: Any) -> Callable[[Path], None]:
    """An edit that sets the dotted field ``path`` (``airflow.ui.public``) of a file to ``value``."""

    def change(file: Path) -> None:
        data = parse_yaml(file.read_text())
        node = data
        *parents, last = path.split(".")
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node.setdefault(part, {})
        node[last] = value
        file.write_text(dump_yaml(data))

    return change


def _drop_auth(file: Path) -> None:
    data = parse_yaml(file.read_text())
    del data["airflow"]["ui"]["auth"]
    file.write_text(dump_yaml(data))


def text(content: str) -> Callable[[Path], object]:
    return lambda file: file.write_text(content)


ALIAS_BOMB = (
    "".join(
        f"{name}: &{name} [{', '.join([f'*{previous}'] * 9) if previous else ', '.join(['lol'] * 9)}]\n"
        for previous, name in zip([None, "a", "b", "c", "d", "e", "f", "g"], "abcdefgh", strict=True)
    )
    + "tier: *h\n"
)

REFUSED: dict[str, tuple[str, Callable[[Path], object], str]] = {
    # Reach from the internet
    "prod-ui-open-to-the-internet": (
        "live.yaml",
        lambda f: (setting("airflow.ui.public", True)(f), setting("airflow.ui.allowed_cidrs", ["0.0.0.0/0"])(f)),
        "airflow.ui: allowed_cidrs admit 4,294,967,296 addresses together, the whole internet; list the office "
        "or VPN ranges, or, if the UI must face the internet, say why in airflow.ui.internet_facing_reason",
    ),
    "api-endpoint-open-through-two-halves": (
        "live.yaml",
        lambda f: (
            setting("tier", "dev")(f),
            setting("cluster.endpoint_public_access", True)(f),
            setting("cluster.public_access_cidrs", ["0.0.0.0/1", "128.0.0.0/1"])(f),
        ),
        "cluster: public_access_cidrs admit 4,294,967,296 addresses together, the whole internet (public ranges "
        "wider than a /8 count as that); list the office or VPN ranges instead",
    ),
    # Identities from elsewhere
    "admin-role-of-another-account": (
        "live.yaml",
        setting("cluster.admin_role_arns", ["arn:aws:iam::999999999999:role/platform-admins"]),
        "cluster.admin_role_arns[0]: 'arn:aws:iam::999999999999:role/platform-admins' is in account 999999999999, "
        "not the environment's 555555555555; grant cluster admin to a role in 555555555555 (people from other "
        "accounts assume that one)",
    ),
    "certificate-of-another-account": (
        "live.yaml",
        setting("airflow.ui.certificate", "arn:aws:acm:us-east-2:999999999999:certificate/55555555-5555-4555-8555-555555555555"),
        "airflow.ui.certificate: the certificate is in account 999999999999, region us-east-2; the load balancer can "
        "only present one from its own account 555555555555 and region us-east-2",
    ),
    # Teams reaching the platform's own data
    "team-granted-the-state-bucket": (
        "live.yaml",
        setting("teams.0.permissions.buckets", [{"bucket": "fixture-tfstate-555555555555"}]),
        "teams[0].permissions.buckets[0].bucket: 'fixture-tfstate-555555555555' is Flightdeck's own Terraform state "
        "bucket; no team may be granted it",
    ),
    "team-granted-another-state-bucket": (
        "live.yaml",
        setting("teams.0.permissions.buckets", [{"bucket": "flightdeck-tfstate-111111111111"}]),
        "teams[0].permissions.buckets[0].bucket: 'flightdeck-tfstate-111111111111' is Flightdeck's own Terraform "
        "state bucket; no team may be granted it",
    ),
    "team-granted-the-log-bucket": (
        "live.yaml",
        setting("teams.0.permissions.buckets", [{"bucket": "flightdeck-live-airflow-logs-555555555555", "write": True}]),
        "teams[0].permissions.buckets[0].bucket: 'flightdeck-live-airflow-logs-555555555555' is Flightdeck's own "
        "task log bucket; no team may be granted it",
    ),
    "team-granted-the-datadog-key": (
        "live.yaml",
        setting("teams.0.permissions.secrets", ["fixture/datadog"]),
        "teams[0].permissions.secrets[0]: 'fixture/datadog' is the platform's secret (datadog.api_key_secret); no team may read it",
    ),
    "team-granted-the-dag-credentials": (
        "live.yaml",
        setting("teams.0.permissions.secrets", ["fixture/dags-git"]),
        "teams[0].permissions.secrets[0]: 'fixture/dags-git' is the platform's secret (airflow.dags.git.credentials_secret); no team may read it",
    ),
    "team-granted-the-kept-fernet-key": (
        "live.yaml",
        setting("teams.0.permissions.secrets", ["flightdeck-live/airflow/fernet-key"]),
        "teams[0].permissions.secrets[0]: 'flightdeck-live/airflow/fernet-key' is under flightdeck-live's own secrets "
        "(where Airflow's Fernet, API and JWT keys are kept); no team may read it",
    ),
    # Task pods in the platform's namespaces
    "tasks-in-kube-system": (
        "live.yaml",
        setting("airflow.task_namespaces", ["airflow-tasks", "kube-system"]),
        "airflow: task_namespaces[1]: 'kube-system' is Kubernetes' own namespace (its service accounts control the "
        "cluster); DAG pods run in namespaces of their own (for example airflow-tasks)",
    ),
    "tasks-beside-the-secret-operator": (
        "live.yaml",
        setting("airflow.task_namespaces", ["external-secrets"]),
        "airflow: task_namespaces[0]: 'external-secrets' is the secret operator's namespace (it reads every cloud "
        "secret Airflow uses); DAG pods run in namespaces of their own (for example airflow-tasks)",
    ),
    "tasks-in-airflows-namespace": (
        "live.yaml",
        setting("airflow.task_namespaces", ["airflow"]),
        "airflow: task_namespaces[0]: 'airflow' is Airflow's own namespace (its pods hold the database connection "
        "and the Fernet key); DAG pods run in namespaces of their own (for example airflow-tasks)",
    ),
    "task-namespace-listed-twice": (
        "live.yaml",
        setting("airflow.task_namespaces", ["airflow-tasks", "batch", "airflow-tasks"]),
        "airflow: task_namespaces[2]: 'airflow-tasks' is listed twice",
    ),
    # Prod that is not prod
    "prod-on-latest": (
        "live.yaml",
        setting("airflow.image.tag", "latest"),
        "airflow.image.tag is 'latest', a tag that moves; a prod environment runs a pinned version (3.2.2, or your "
        "image's release or commit tag) so every deploy is reproducible",
    ),
    "prod-system-pool-of-one-micro": (
        "live.yaml",
        setting("cluster.node_groups", {"system": {"instance_types": ["t3.micro"], "min_size": 1, "desired_size": 1, "max_size": 1}}),
        "cluster.node_groups.system.min_size is 1; a prod system pool keeps at least 2 nodes, so losing one does not stop Airflow",
    ),
    "prod-system-pool-of-burstables": (
        "live.yaml",
        setting("cluster.node_groups", {"system": {"instance_types": ["t3.2xlarge"], "min_size": 3, "desired_size": 3, "max_size": 6}}),
        "cluster.node_groups.system.instance_types: 't3.2xlarge' cannot carry a prod system pool: burstable "
        "instances run out of CPU credits under the steady load of Airflow's control components",
    ),
    "existing-prod-database-without-tls": (
        "onprem.yaml",
        setting("existing.database.tls", "disable"),
        "existing.database.tls is 'disable'; a prod environment's database connection is always encrypted "
        "('require'): 'prefer' falls back to plain text without a word",
    ),
    # Nobody could sign in
    "prod-without-sign-in": (
        "live.yaml",
        _drop_auth,
        "airflow.ui.auth is not set, so nobody could sign in to this prod environment's UI (only dev has a generated "
        "admin user); configure single sign-on (provider, client_id, client_secret, groups)",
    ),
    "groups-from-google": (
        "live.yaml",
        setting("airflow.ui.auth", {"provider": "google", "client_id": "x", "client_secret": "fixture/sso", "groups": {"admins": "Admin"}}),
        "airflow.ui.auth: groups: google sends no group claim, so groups cannot map to roles; use default_role (or Okta, "
        "Entra ID or an OIDC issuer that sends groups)",
    ),
    "okta-without-issuer": (
        "live.yaml",
        setting("airflow.ui.auth", {"provider": "okta", "client_id": "x", "client_secret": "fixture/sso"}),
        "airflow.ui.auth: issuer is required with provider okta",
    ),
    "team-granted-the-sign-in-secret": (
        "live.yaml",
        setting("teams.0.permissions.secrets", ["fixture/airflow-sso"]),
        "teams[0].permissions.secrets[0]: 'fixture/airflow-sso' is the platform's secret (airflow.ui.auth.client_secret); "
        "no team may read it",
    ),
    # Files that are not what they look like
    "alias-bomb": (
        "live.yaml",
        text(ALIAS_BOMB),
        "line 5, column 28: the file expands to more than 50,000 values (aliases repeat what their anchor holds); write the settings out instead",
    ),
    "deep-nesting": (
        "live.yaml",
        text("tier: prod\nx: " + "[" * 5000 + "]" * 5000 + "\n"),
        "line 2, column 35: nested more than 32 levels deep",
    ),
    "list-as-a-key": (
        "live.yaml",
        text("tier: prod\n? [a, b]\n: 1\n"),
        "line 2, column 3: YAML syntax error: a key must be a plain value (a name or a number), not a list",
    ),
    "tier-as-a-list": (
        "live.yaml",
        text("tier: [prod]\n"),
        "tier: must be one of dev, qa, prod (got ['prod'])",
    ),
    "ten-megabytes": (
        "live.yaml",
        text("tier: prod\n" + "# padding\n" * 1_000_000),
        "the file has 10,000,011 bytes; a settings file has at most 1,000,000",
    ),
}


def _assert_refused(env_dir: Path, tmp_path: Path, expected: str, **extra_env: str) -> None:
    outdir = tmp_path / "out"
    outdir.mkdir()
    (outdir / "previous-run").write_text("kept")
    result = run_main(outdir, env_dir, **extra_env)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr == f"flightdeck: {expected}\n"
    assert sorted(p.name for p in outdir.iterdir()) == ["previous-run"]


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_dangerous_file_is_refused_with_file_and_field(case: str, trust_dir: Path, tmp_path: Path) -> None:
    filename, breaks, expected = REFUSED[case]
    breaks(trust_dir / filename)
    _assert_refused(trust_dir, tmp_path, f"{trust_dir / filename}: {expected}")


def test_an_environment_named_ci_is_refused(trust_dir: Path, tmp_path: Path) -> None:
    shutil.copy(trust_dir / "live.yaml", trust_dir / "ci.yaml")
    _assert_refused(
        trust_dir,
        tmp_path,
        f"{trust_dir / 'ci.yaml'}: the environment name 'ci' is reserved: its resource prefix would cover Flightdeck's "
        "CI roles (<project>-ci-…), which its deployer could then change; name the file differently",
    )


@pytest.mark.parametrize("name", ["ci-eu", "bootstrap"])
def test_names_that_reach_ci_or_bootstrap_state_are_refused(name: str, trust_dir: Path) -> None:
    shutil.copy(trust_dir / "live.yaml", trust_dir / f"{name}.yaml")
    with pytest.raises(Exception, match=rf"{name}.yaml: the environment name '{name}' is reserved"):
        load_environments(trust_dir, {})


def test_a_symlinked_environment_is_refused(trust_dir: Path, tmp_path: Path) -> None:
    (trust_dir / "live-2.yaml").symlink_to(trust_dir / "live.yaml")
    _assert_refused(
        trust_dir,
        tmp_path,
        f"{trust_dir / 'live-2.yaml'}: is a symbolic link (to {trust_dir / 'live.yaml'}); an environment is one file "
        "of its own, copy it instead (make new-env NAME=… FROM=…)",
    )


def test_an_environment_under_another_ones_prefix_is_refused(trust_dir: Path, tmp_path: Path) -> None:
    shutil.copy(trust_dir / "live.yaml", trust_dir / "live-2.yaml")
    _assert_refused(
        trust_dir,
        tmp_path,
        f"{trust_dir / 'live-2.yaml'}: the environment name 'live-2' starts with 'live-', so its resources "
        f"(flightdeck-live-2-…) fall under {trust_dir / 'live.yaml'}'s prefix flightdeck-live-, which live's deployer "
        "manages in AWS account 555555555555; rename it without the dash (for example live2)",
    )


def test_nested_names_in_different_accounts_are_fine(trust_dir: Path) -> None:
    """IAM names are per account: ``live``'s deployer cannot reach ``live-2`` in another account."""
    live = trust_dir / "live.yaml"
    (trust_dir / "live-2.yaml").write_text(live.read_text().replace("555555555555", "666666666666"))
    assert sorted(c.name for c in load_environments(trust_dir, {})) == ["live", "live-2", "onprem"]


def test_lowercase_override_variables_are_refused_not_ignored(trust_dir: Path, tmp_path: Path) -> None:
    _assert_refused(
        trust_dir,
        tmp_path,
        "flightdeck_set_live__airflow__image__tag: Flightdeck's variables start with FLIGHTDECK_ in capitals and "
        "names are case-sensitive, so this one would be ignored; rename it FLIGHTDECK_SET_LIVE__AIRFLOW__IMAGE__TAG",
        flightdeck_set_live__airflow__image__tag="3.2.3",
    )


def test_latest_set_by_ci_is_refused_with_the_variable(trust_dir: Path, tmp_path: Path) -> None:
    _assert_refused(
        trust_dir,
        tmp_path,
        f"{trust_dir / 'live.yaml'}: airflow.image.tag is 'latest', a tag that moves; a prod environment runs a pinned "
        "version (3.2.2, or your image's release or commit tag) so every deploy is reproducible",
        FLIGHTDECK_SET_LIVE__AIRFLOW__IMAGE__TAG="latest",
    )


def test_an_internet_facing_ui_needs_a_reason_and_then_is_allowed(trust_dir: Path) -> None:
    live = trust_dir / "live.yaml"
    setting("airflow.ui.public", True)(live)
    setting("airflow.ui.allowed_cidrs", ["0.0.0.0/0"])(live)
    setting("airflow.ui.internet_facing_reason", "Partners sign in through SSO from anywhere; a WAF is in front.")(live)
    (config,) = [c for c in load_environments(trust_dir, {}) if c.name == "live"]
    assert config.airflow.ui.internet_facing
    assert config.airflow.ui.allowed_cidrs == ["0.0.0.0/0"]


def test_a_reason_without_an_internet_facing_ui_is_refused(trust_dir: Path, tmp_path: Path) -> None:
    setting("airflow.ui.internet_facing_reason", "Partners sign in through SSO from anywhere.")(trust_dir / "live.yaml")
    _assert_refused(
        trust_dir,
        tmp_path,
        f"{trust_dir / 'live.yaml'}: airflow.ui: internet_facing_reason is set but the UI does not face the internet; remove it",
    )


def test_office_ranges_are_not_the_internet(trust_dir: Path) -> None:
    live = trust_dir / "live.yaml"
    setting("airflow.ui.public", True)(live)
    setting("airflow.ui.allowed_cidrs", ["203.0.113.0/24", "198.51.100.0/24", "10.0.0.0/8"])(live)
    (config,) = [c for c in load_environments(trust_dir, {}) if c.name == "live"]
    assert not config.airflow.ui.internet_facing


@pytest.mark.parametrize(("where", "message"), [("missing/out", "its parent folder"), ("file", "is a file, not a folder")])
def test_an_output_folder_that_cannot_be_made_is_refused_before_any_synthesis(trust_dir: Path, tmp_path: Path, where: str, message: str) -> None:
    (tmp_path / "file").write_text("keep me\n")
    result = run_main(tmp_path / where, environments=trust_dir)
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
    assert result.stderr.startswith(f"flightdeck: CDKTF_OUTDIR: '{tmp_path / where}'") and message in result.stderr
    assert (tmp_path / "file").read_text() == "keep me\n" and not (tmp_path / "missing").exists()

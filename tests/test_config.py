"""Environment files and CI overrides: what a user sees when they get something wrong.

Each bad input runs ``main.py`` in a fresh process, as a user would: exit status 2, one message
naming the file and the field path, no traceback, and nothing written. These runs stop before the
provider bindings load, so they take well under a second each.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from flightdeck.config import Tier
from flightdeck.errors import ConfigError
from flightdeck.loader import load_environment, load_environments, parse_overrides

from .conftest import ENVIRONMENTS, run_main, run_module


@pytest.fixture
def env_dir(tmp_path: Path) -> Path:
    """A private copy of the fixture environment files, for a test to break."""
    target = tmp_path / "environments"
    shutil.copytree(ENVIRONMENTS, target)
    return target


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1))


BAD_INPUTS = {
    "yaml-syntax": (
        "dev.yaml",
        lambda f: f.write_text("tier: dev\nowner: [unclosed\n"),
        "dev.yaml: line 3, column 1: YAML syntax error: did not find expected ',' or ']'",
    ),
    "empty-file": (
        "dev.yaml",
        lambda f: f.write_text(""),
        "dev.yaml: the file is empty; it must be a mapping of settings (start with 'tier: dev')",
    ),
    "not-a-mapping": (
        "dev.yaml",
        lambda f: f.write_text("- tier: dev\n"),
        "dev.yaml: the top level must be a mapping of settings, not a list",
    ),
    "unknown-key": (
        "dev.yaml",
        lambda f: edit(f, "cluster:\n", "cluster:\n  node_count: 3\n"),
        "dev.yaml: cluster.node_count: unknown key; expected one of: kubernetes_version, "
        "endpoint_public_access, public_access_cidrs, log_retention_days, admin_role_arns, addon_versions, node_groups, "
        "node_pools, node_image, bastion",
    ),
    "wrong-type": (
        "dev.yaml",
        lambda f: edit(f, "  cidr: 10.10.0.0/16\n", "  cidr: 10.10.0.0/16\n  availability_zones: two\n"),
        "dev.yaml: network.availability_zones: Input should be a valid integer, "
        "unable to parse string as an integer (got 'two')",
    ),
    "out-of-range": (
        "qa.yaml",
        lambda f: edit(f, "cluster:\n", "database:\n  backup_retention_days: 90\ncluster:\n"),
        "qa.yaml: database.backup_retention_days: Input should be less than or equal to 35 (got 90)",
    ),
    "invalid-cidr": (
        "dev.yaml",
        lambda f: edit(f, "10.10.0.0/16", "10.10.0.0/33"),
        "dev.yaml: network.cidr: '10.10.0.0/33' is not a valid IPv4 CIDR block ('33' is not a valid netmask)",
    ),
    "public-cidr": (
        "dev.yaml",
        lambda f: edit(f, "10.10.0.0/16", "8.8.0.0/16"),
        "dev.yaml: network.cidr: 8.8.0.0/16 is not a private range "
        "(use one inside 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16)",
    ),
    "invalid-region": (
        "dev.yaml",
        lambda f: edit(f, "eu-west-1", "eu-wset-1"),
        "dev.yaml: aws.region: 'eu-wset-1' is not an AWS region (for example eu-west-1 or us-east-2)",
    ),
    "sizes-out-of-order": (
        "prod.yaml",
        lambda f: edit(f, "system: {min_size: 5, desired_size: 5, max_size: 8}", "system: {min_size: 5, desired_size: 5, max_size: 3}"),
        "prod.yaml: cluster.node_groups.system: min_size 5 is larger than max_size 3",
    ),
    "workers-as-a-node-group": (
        "prod.yaml",
        lambda f: edit(f, "  node_groups:\n", "  node_groups:\n    workers:\n      min_size: 3\n"),
        "prod.yaml: cluster.node_groups: workers is not a node group on EKS: task capacity is a Karpenter node pool; "
        "set cluster.node_pools.workers (instance_families, capacity, cpu_limit, memory_limit_gib) instead",
    ),
    "duplicate-key": (
        "dev.yaml",
        lambda f: edit(f, "owner: data-platform\n", "owner: data-platform\nowner: analytics\n"),
        "dev.yaml: line 7, column 1: YAML syntax error: duplicate key 'owner' (first at line 6)",
    ),
    "missing-tier": (
        "qa.yaml",
        lambda f: edit(f, "tier: qa\n", ""),
        "qa.yaml: tier: required, but not set",
    ),
    "prod-without-multi-az": (
        "prod.yaml",
        lambda f: edit(f, "network:\n", "database:\n  multi_az: false\nnetwork:\n"),
        "prod.yaml: database.multi_az is false; prod needs a standby in a second zone",
    ),
    "qa-on-two-zones": (
        "qa.yaml",
        lambda f: edit(f, "  cidr: 10.20.0.0/16\n", "  cidr: 10.20.0.0/16\n  availability_zones: 2\n"),
        "qa.yaml: network.availability_zones is 2; only dev may use fewer than 3 zones",
    ),
    "admin-user-in-prod": (
        "prod.yaml",
        lambda f: edit(f, "airflow:\n", "airflow:\n  create_admin_user: true\n"),
        "prod.yaml: airflow.create_admin_user is true; only dev may have a default admin user",
    ),
    "single-scheduler-in-prod": (
        "prod.yaml",
        lambda f: edit(
            f,
            "airflow:\n",
            "airflow:\n  components:\n    scheduler:\n      replicas: 1\n      resources: {cpu: '1', memory: 2Gi}\n",
        ),
        "prod.yaml: airflow.components.scheduler.replicas is 1; prod runs at least 2",
    ),
    "managed-airflow-setting": (
        "qa.yaml",
        lambda f: edit(f, "airflow:\n", "airflow:\n  config:\n    logging:\n      remote_base_log_folder: s3://elsewhere\n"),
        "qa.yaml: airflow.config.logging.remote_base_log_folder is set by Flightdeck and cannot be overridden here",
    ),
    "git-source-without-repository": (
        "dev.yaml",
        lambda f: edit(f, "    git:\n      repository: https://github.com/example-org/airflow-dags.git\n      ref: main\n"
                       "      credentials_secret: flightdeck/dags-git\n", ""),
        "dev.yaml: airflow.dags: source is git but the git section (repository, ref) is missing",
    ),
    "qa-without-monitoring": (
        "qa.yaml",
        lambda f: f.write_text(f.read_text().split("\n# Monitoring")[0] + "\n"),
        "qa.yaml: datadog is not set; a qa environment must be monitored",
    ),
    "notification-without-at": (
        "prod.yaml",
        lambda f: edit(f, '"@pagerduty-airflow-prod"', '"pagerduty-airflow-prod"'),
        "prod.yaml: datadog.monitors.notify[0]: 'pagerduty-airflow-prod' is not a Datadog notification handle; "
        "write @slack-<channel>, @pagerduty-<service> or @<e-mail>",
    ),
    "warning-past-critical": (
        "dev.yaml",
        lambda f: edit(f, "  monitors:\n", "  monitors:\n    queued_tasks: {critical: 50, warning: 80}\n"),
        "dev.yaml: datadog.monitors.queued_tasks: warning 80 must be below critical 50",
    ),
    "unknown-datadog-site": (
        "dev.yaml",
        lambda f: edit(f, "site: datadoghq.eu", "site: datadoghq.de"),
        "dev.yaml: datadog.site: Input should be 'datadoghq.com', 'us3.datadoghq.com', 'us5.datadoghq.com', "
        "'datadoghq.eu', 'ap1.datadoghq.com', 'ap2.datadoghq.com' or 'ddog-gov.com' (got 'datadoghq.de')",
    ),
    "team-declared-twice": (
        "qa.yaml",
        lambda f: edit(f, "  - name: marketing\n", "  - name: analytics\n"),
        "qa.yaml: teams[1].name 'analytics' is declared twice",
    ),
    "team-namespace-taken": (
        "qa.yaml",
        lambda f: edit(f, "airflow:\n", "airflow:\n  task_namespaces: [airflow-tasks, team-marketing]\n"),
        "qa.yaml: airflow: task_namespaces[1]: 'team-marketing' is a team's namespace; declare the team under teams: instead",
    ),
    "team-without-quota": (
        "prod.yaml",
        lambda f: edit(f, '    quota: {cpu: "16", memory: 64Gi, pods: 150}\n', ""),
        "prod.yaml: teams[1].quota: required, but not set",
    ),
    "public-endpoint-outside-dev": (
        "qa.yaml",
        lambda f: edit(f, "cluster:\n", "cluster:\n  endpoint_public_access: true\n  public_access_cidrs: [203.0.113.0/24]\n"),
        "qa.yaml: cluster.endpoint_public_access is true; only dev may open the API endpoint, a qa cluster is deployed "
        "from the runner inside its network (and by people through cluster.bastion or a VPN)",
    ),
    "unknown-executor": (
        "dev.yaml",
        lambda f: edit(f, "airflow:\n", "airflow:\n  executor: LocalExecutor\n"),
        "dev.yaml: airflow.executor: Input should be 'KubernetesExecutor', 'CeleryExecutor' or "
        "'CeleryExecutor,KubernetesExecutor' (got 'LocalExecutor')",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_bad_input_exits_2_with_one_clear_message_and_writes_nothing(case: str, env_dir: Path, tmp_path: Path) -> None:
    filename, breaks, expected = BAD_INPUTS[case]
    breaks(env_dir / filename)
    outdir = tmp_path / "out"
    outdir.mkdir()
    (outdir / "previous-run").write_text("kept")

    # main.py as a user runs it, saying afterwards what of the CDK it loaded (tests/probes/main_loads.py).
    result = run_module("tests.probes.main_loads", CDKTF_OUTDIR=str(outdir), FLIGHTDECK_ENVIRONMENTS=str(env_dir))

    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr == f"flightdeck: {env_dir / expected}\n"
    assert sorted(p.name for p in outdir.iterdir()) == ["previous-run"]
    assert json.loads(result.stdout) == [], "reported before the CDK, its Node runtime or any binding loads"


def test_every_problem_in_every_file_is_reported_together(env_dir: Path) -> None:
    edit(env_dir / "dev.yaml", "eu-west-1", "mars-1")
    edit(env_dir / "prod.yaml", "cost_center: CC-1042", "cost_center: 1042")
    with pytest.raises(ConfigError) as error:
        load_environments(env_dir, {})
    assert str(error.value).splitlines() == [
        f"{env_dir}/dev.yaml: aws.region: 'mars-1' is not an AWS region (for example eu-west-1 or us-east-2)",
        f"{env_dir}/prod.yaml: cost_center: Input should be a valid string (got 1042)",
    ]


def test_name_comes_from_the_file_and_cannot_be_set(env_dir: Path) -> None:
    edit(env_dir / "dev.yaml", "tier: dev\n", "tier: dev\nname: staging\n")
    with pytest.raises(ConfigError, match=r"dev.yaml: name: unknown key; the environment's name comes from its file name"):
        load_environment(env_dir / "dev.yaml")


def test_yml_files_are_not_silently_ignored(env_dir: Path) -> None:
    (env_dir / "qa.yaml").rename(env_dir / "qa.yml")
    with pytest.raises(ConfigError, match=r"qa.yml: environment files end in .yaml; rename it to qa.yaml"):
        load_environments(env_dir, {})


def test_empty_folder_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"no environment files \(\*.yaml\) found"):
        load_environments(tmp_path, {})


# Tier defaults and per-file values


def test_the_fixture_environments_cover_the_three_tiers() -> None:
    configs = {c.name: c for c in load_environments(ENVIRONMENTS, {})}
    assert {name: c.tier for name, c in configs.items()} == {"dev": Tier.DEV, "qa": Tier.QA, "prod": Tier.PROD}


def test_tiers_differ_in_size_and_availability() -> None:
    configs = {c.name: c for c in load_environments(ENVIRONMENTS, {})}
    dev, qa, prod = configs["dev"], configs["qa"], configs["prod"]
    assert (dev.network.availability_zones, qa.network.availability_zones, prod.network.availability_zones) == (2, 3, 3)
    assert (dev.network.nat_gateways, prod.network.nat_gateways) == ("single", "per_az")
    assert not dev.database.multi_az and prod.database.multi_az
    assert prod.cluster.node_pools.workers.cpu_limit > qa.cluster.node_pools.workers.cpu_limit > dev.cluster.node_pools.workers.cpu_limit
    assert [c.cluster.node_pools.workers.capacity for c in (dev, qa, prod)] == ["spot", "spot-or-on-demand", "on-demand"]
    # … and are otherwise the same platform
    assert {c.cluster.kubernetes_version for c in configs.values()} == {"1.33"}
    assert {c.database.engine_version for c in configs.values()} == {"16"}


def test_a_file_overrides_a_single_tier_default(env_dir: Path) -> None:
    edit(env_dir / "dev.yaml", "  cidr: 10.10.0.0/16\n", "  cidr: 10.10.0.0/16\n  nat_gateways: per_az\n")
    dev = load_environment(env_dir / "dev.yaml")
    assert dev.network.nat_gateways == "per_az"
    assert dev.network.availability_zones == 2  # the rest of the section keeps the tier default


# CI overrides


def test_override_precedence_file_then_all_then_one_environment(env_dir: Path) -> None:
    environ = {
        "FLIGHTDECK_SET__CLUSTER__NODE_POOLS__WORKERS__CPU_LIMIT": "12",
        "FLIGHTDECK_SET_PROD__CLUSTER__NODE_POOLS__WORKERS__CPU_LIMIT": "40",
    }
    configs = {c.name: c for c in load_environments(env_dir, environ)}
    assert configs["prod"].cluster.node_pools.workers.cpu_limit == 40
    assert configs["qa"].cluster.node_pools.workers.cpu_limit == 12
    assert configs["dev"].cluster.node_pools.workers.cpu_limit == 12


def test_ci_overrides_win_over_file_values_for_image_tag_account_and_sizes(env_dir: Path) -> None:
    environ = {
        "FLIGHTDECK_SET__AIRFLOW__IMAGE__TAG": "3.2.3-build.41",
        "FLIGHTDECK_SET_QA__AWS__ACCOUNT_ID": "444444444444",
        # Cluster admins and the certificate are the account's own, so they move with it.
        "FLIGHTDECK_SET_QA__CLUSTER__ADMIN_ROLE_ARNS": "[arn:aws:iam::444444444444:role/platform-admins]",
        "FLIGHTDECK_SET_QA__AIRFLOW__UI__CERTIFICATE": "arn:aws:acm:eu-west-1:444444444444:certificate/0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d",
        "FLIGHTDECK_SET_PROD__NETWORK__CIDR": "10.31.0.0/16",
    }
    files = {c.name: c for c in load_environments(env_dir, {})}
    configs = {c.name: c for c in load_environments(env_dir, environ)}
    assert files["prod"].network.cidr == "10.30.0.0/16", "the file sets it"
    assert configs["prod"].network.cidr == "10.31.0.0/16"
    assert files["qa"].aws.account_id == "222222222222" and configs["qa"].aws.account_id == "444444444444"
    assert {c.airflow.image.tag for c in configs.values()} == {"3.2.3-build.41"}
    assert configs["dev"].aws.account_id == files["dev"].aws.account_id, "an environment's override stays in it"
    # Text fields keep the text: YAML would read this tag as the number 3.1.
    (dev,) = [c for c in load_environments(env_dir, {"FLIGHTDECK_SET_DEV__AIRFLOW__IMAGE__TAG": "3.10"}) if c.name == "dev"]
    assert dev.airflow.image.tag == "3.10"


def test_override_values_are_typed_and_checked(env_dir: Path) -> None:
    environ = {"FLIGHTDECK_SET_PROD__CLUSTER__NODE_POOLS__WORKERS__CPU_LIMIT": "lots"}
    with pytest.raises(ConfigError) as error:
        load_environments(env_dir, environ)
    assert str(error.value) == (
        f"{env_dir}/prod.yaml: cluster.node_pools.workers.cpu_limit: Input should be a valid integer, "
        "unable to parse string as an integer (got 'lots') (set by FLIGHTDECK_SET_PROD__CLUSTER__NODE_POOLS__WORKERS__CPU_LIMIT)"
    )


def test_override_of_a_list_replaces_it(env_dir: Path) -> None:
    environ = {"FLIGHTDECK_SET_DEV__CLUSTER__NODE_POOLS__WORKERS__INSTANCE_FAMILIES": "[c6i]"}
    dev = next(c for c in load_environments(env_dir, environ) if c.name == "dev")
    assert dev.cluster.node_pools.workers.instance_families == ["c6i"]


@pytest.mark.parametrize(
    ("variable", "message"),
    [
        (
            "FLIGHTDECK_SET__CLUSTER__NODE_COUNT",
            "FLIGHTDECK_SET__CLUSTER__NODE_COUNT: 'cluster.node_count' is not a setting; fields at cluster: "
            "kubernetes_version, endpoint_public_access, public_access_cidrs, log_retention_days, admin_role_arns, "
            "addon_versions, node_groups, node_pools, node_image, bastion",
        ),
        (
            "FLIGHTDECK_SET_PROD__TIER",
            "FLIGHTDECK_SET_PROD__TIER: 'tier' identifies the environment and cannot be overridden",
        ),
        (
            "FLIGHTDECK_SET__DATABASE",
            "FLIGHTDECK_SET__DATABASE: 'database' is a section; override one of its fields instead",
        ),
        (
            "FLIGHTDECK_IMAGE_TAG",
            "FLIGHTDECK_IMAGE_TAG: unknown Flightdeck variable; overrides are named "
            "FLIGHTDECK_SET__<FIELD>__<FIELD> or FLIGHTDECK_SET_<ENV>__<FIELD>__<FIELD>",
        ),
    ],
)
def test_unknown_override_names_are_rejected(variable: str, message: str) -> None:
    with pytest.raises(ConfigError) as error:
        parse_overrides({variable: "1"})
    assert str(error.value) == message


def test_override_for_a_missing_environment_is_rejected(env_dir: Path) -> None:
    with pytest.raises(ConfigError) as error:
        load_environments(env_dir, {"FLIGHTDECK_SET_STAGING__DATABASE__MULTI_AZ": "true"})
    assert str(error.value) == (
        f"FLIGHTDECK_SET_STAGING__DATABASE__MULTI_AZ: there is no environment 'staging' in {env_dir} (known: dev, prod, qa)"
    )


def test_bad_override_stops_main_before_writing(env_dir: Path, tmp_path: Path) -> None:
    result = run_main(tmp_path / "out", env_dir, FLIGHTDECK_SET_QA__DATABASE__MULTI_AZ="maybe")
    assert result.returncode == 2
    assert result.stderr == (
        f"flightdeck: {env_dir}/qa.yaml: database.multi_az: Input should be a valid boolean, unable to interpret "
        "input (got 'maybe') (set by FLIGHTDECK_SET_QA__DATABASE__MULTI_AZ)\n"
    )
    assert not (tmp_path / "out").exists()


def test_dev_may_go_without_monitoring(env_dir: Path) -> None:
    dev = env_dir / "dev.yaml"
    dev.write_text(dev.read_text().split("\n# Monitoring")[0] + "\n")
    config = next(c for c in load_environments(env_dir, {}) if c.name == "dev")
    assert config.datadog is None
    assert "flightdeck/datadog" not in config.synced_secret_names


def test_monitoring_defaults_follow_the_tier(env_dir: Path) -> None:
    monitors = {}
    for config in load_environments(env_dir, {}):
        assert config.datadog is not None, f"{config.name} has no datadog section"
        monitors[config.name] = config.datadog.monitors
    assert [monitors[e].priority for e in ("dev", "qa", "prod")] == [4, 3, 1]
    assert monitors["prod"].scheduler_heartbeat_minutes < monitors["dev"].scheduler_heartbeat_minutes

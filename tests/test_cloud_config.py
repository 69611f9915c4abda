"""``cloud: gcp`` and ``cloud: existing`` files: each cloud's own rules, with messages naming file and field."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from flightdeck.config import AwsEnvironment, ExistingEnvironment, GcpEnvironment
from flightdeck.errors import ConfigError
from flightdeck.loader import load_environment, parse_overrides

from .conftest import ENVIRONMENTS, EXISTING_EXAMPLES, GKE_EXAMPLES, configs_in, run_main
from .test_config import edit

GKE = GKE_EXAMPLES
EXISTING = EXISTING_EXAMPLES


@pytest.fixture
def gke_files(tmp_path: Path) -> Path:
    target = tmp_path / "gke"
    shutil.copytree(GKE, target)
    return target


@pytest.fixture
def existing_files(tmp_path: Path) -> Path:
    target = tmp_path / "existing"
    shutil.copytree(EXISTING, target)
    return target


def test_each_cloud_gets_its_own_model_and_tier_defaults() -> None:
    gke = configs_in(GKE)
    assert all(isinstance(c, GcpEnvironment) for c in gke.values())
    assert gke["dev"].cluster.regional is False and gke["prod"].cluster.regional is True
    assert gke["prod"].database.high_availability and not gke["dev"].database.high_availability
    assert gke["prod"].database.point_in_time_recovery_days == 7 and gke["dev"].database.point_in_time_recovery_days == 0
    assert gke["prod"].cluster.node_groups.workers.instance_types == ["n2-standard-8"]
    # The cloud-neutral parts come from the same tier tables as on AWS.
    aws_prod = load_environment(ENVIRONMENTS / "prod.yaml")
    assert isinstance(aws_prod, AwsEnvironment)
    assert gke["prod"].airflow.components == aws_prod.airflow.components
    assert gke["prod"].task_logs == aws_prod.task_logs
    (existing,) = configs_in(EXISTING).values()
    assert isinstance(existing, ExistingEnvironment)
    assert existing.max_nodes == 2 and existing.state is None


def test_unknown_cloud_is_refused(gke_files: Path) -> None:
    edit(gke_files / "dev.yaml", "cloud: gcp", "cloud: azure")
    with pytest.raises(ConfigError, match=r"dev.yaml: cloud: must be one of aws, gcp, existing \(got 'azure'\)"):
        load_environment(gke_files / "dev.yaml")


def test_an_aws_section_in_a_gcp_file_is_an_unknown_key(gke_files: Path) -> None:
    edit(gke_files / "dev.yaml", "gcp:\n", "aws:\n  account_id: '111111111111'\n  region: eu-west-1\ngcp:\n")
    with pytest.raises(ConfigError, match=r"dev.yaml: aws: unknown key; expected one of: .*gcp, state, network"):
        load_environment(gke_files / "dev.yaml")


GCP_BAD_INPUTS = {
    "public-endpoint-in-prod": (
        "prod.yaml",
        ("network:\n", "cluster:\n  endpoint_public_access: true\n  public_access_cidrs: [203.0.113.0/24]\nnetwork:\n"),
        "cluster.endpoint_public_access is true; only dev may open the API endpoint, a prod cluster is "
        "reached through its DNS-based endpoint, which admits IAM principals only",
    ),
    "prod-zonal": (
        "prod.yaml",
        ("network:\n", "cluster:\n  regional: false\nnetwork:\n"),
        "cluster.regional is false; only dev may run a zonal cluster",
    ),
    "regional-on-one-zone": (
        "qa.yaml",
        ("zones: [europe-west1-b, europe-west1-c, europe-west1-d]", "zones: [europe-west1-b]"),
        "gcp.zones lists 1 zones; a regional cluster spreads over at least 3",
    ),
    "zone-outside-region": (
        "dev.yaml",
        ("zones: [europe-west1-b]", "zones: [europe-west4-a]"),
        "gcp: zones[0] 'europe-west4-a' is not in region europe-west1",
    ),
    "aws-machine-type": (
        "dev.yaml",
        ("cluster:\n", "cluster:\n  node_groups:\n    workers: {instance_types: [m6i.large], min_size: 0, desired_size: 1, max_size: 2}\n"),
        "cluster.node_groups.workers.instance_types: 'm6i.large' is not a machine type of this cloud (for example e2-standard-4)",
    ),
    "two-machine-types": (
        "dev.yaml",
        ("cluster:\n", "cluster:\n  node_groups:\n    workers: {instance_types: [e2-standard-4, e2-standard-8], "
                       "min_size: 0, desired_size: 1, max_size: 2}\n"),
        "cluster.node_groups.workers.instance_types lists 2 types; a GKE node pool has exactly one",
    ),
    "secret-with-slash": (
        "dev.yaml",
        ("credentials_secret: flightdeck-dags-git", "credentials_secret: flightdeck/dags-git"),
        "airflow.dags.git.credentials_secret: 'flightdeck/dags-git' is not a Secret Manager secret id (letters, digits, _ and -; no /)",
    ),
    "acm-certificate": (
        "dev.yaml",
        ("certificate: airflow-dev-example-internal", "certificate: arn:aws:acm:eu-west-1:111111111111:certificate/0b6f1c52"),
        "airflow.ui.certificate: 'arn:aws:acm:eu-west-1:111111111111:certificate/0b6f1c52' is not the name of a regional "
        "SSL certificate (lowercase letters, digits and dashes)",
    ),
    "public-ui": (
        "dev.yaml",
        ("    certificate: airflow-dev-example-internal\n",
         "    certificate: airflow-dev-example-internal\n    public: true\n    allowed_cidrs: [203.0.113.0/24]\n"),
        "airflow.ui.public is true; on GCP the UI is served by an internal load balancer only "
        "(limiting a public one's sources needs Cloud Armor, which Flightdeck does not set up)",
    ),
    "prod-without-pitr": (
        "prod.yaml",
        ("network:\n", "database:\n  point_in_time_recovery_days: 0\nnetwork:\n"),
        "database.point_in_time_recovery_days is 0; prod keeps write-ahead logs for point-in-time recovery "
        "(on GCP the way back from an Airflow upgrade is a clone from just before it)",
    ),
    "qa-without-pitr": (
        "qa.yaml",
        ("network:\n", "database:\n  point_in_time_recovery_days: 0\nnetwork:\n"),
        "database.point_in_time_recovery_days is 0; qa keeps write-ahead logs for point-in-time recovery "
        "(on GCP the way back from an Airflow upgrade is a clone from just before it)",
    ),
    "restore-from-two-sources": (
        "prod.yaml",
        ("network:\n", "database:\n  restore_from: {instance: r1, point_in_time: '2026-12-01T02:10:00Z', backup_run_id: 17}\nnetwork:\n"),
        "database.restore_from: set exactly one of point_in_time (a clone as it was then) and backup_run_id (one of its backups)",
    ),
    "restore-from-nothing": (
        "prod.yaml",
        ("network:\n", "database:\n  restore_from: {instance: r1}\nnetwork:\n"),
        "database.restore_from: set exactly one of point_in_time (a clone as it was then) and backup_run_id (one of its backups)",
    ),
    "restore-onto-itself": (
        "prod.yaml",
        ("network:\n", "database:\n  restore_from: {instance: r1, replaces: r1, backup_run_id: 17}\nnetwork:\n"),
        "database.restore_from: instance 'r1' is the instance it replaces; a restore always makes a new one",
    ),
    "restore-from-a-local-time": (
        "prod.yaml",
        ("network:\n", "database:\n  restore_from: {instance: r1, point_in_time: '2026-12-01 02:10'}\nnetwork:\n"),
        "database.restore_from.point_in_time: '2026-12-01 02:10' is not a time in RFC 3339 and UTC, like 2026-12-01T02:10:00Z "
        "(or an airflow-upgrade-point label, like 20261201t021000z)",
    ),
    "clone-without-a-log": (
        "dev.yaml",
        ("network:\n", "database:\n  restore_from: {instance: r1, point_in_time: '2026-12-01T02:10:00Z'}\nnetwork:\n"),
        "database.restore_from.point_in_time is set but database.point_in_time_recovery_days is 0: "
        "the instance keeps no write-ahead log to clone from; restore a backup_run_id instead",
    ),
    "prod-without-ha": (
        "prod.yaml",
        ("network:\n", "database:\n  high_availability: false\nnetwork:\n"),
        "database.high_availability is false; prod needs a standby in a second zone",
    ),
    "public-endpoint-without-ranges": (
        "dev.yaml",
        ("endpoint_public_access: false", "endpoint_public_access: true"),
        "cluster: endpoint_public_access is true but public_access_cidrs is empty; list the ranges allowed to reach the API",
    ),
}


@pytest.mark.parametrize("case", sorted(GCP_BAD_INPUTS))
def test_gcp_rules(case: str, gke_files: Path) -> None:
    filename, (old, new), expected = GCP_BAD_INPUTS[case]
    edit(gke_files / filename, old, new)
    with pytest.raises(ConfigError) as raised:
        load_environment(gke_files / filename)
    assert str(raised.value) == f"{gke_files / filename}: {expected}"


EXISTING_BAD_INPUTS = {
    "platform-image": (
        ("airflow:\n", "airflow:\n  image: {repository: platform}\n"),
        "airflow.image.repository is 'platform', but an existing cluster has no platform image repository; name the image",
    ),
    "dedicated-nodes": (
        ("    quota: {cpu: \"4\", memory: 8Gi, pods: 30}\n",
         "    quota: {cpu: \"4\", memory: 8Gi, pods: 30}\n"
         "    dedicated_nodes: {instance_types: [m6i.large], min_size: 0, desired_size: 0, max_size: 2}\n"),
        "teams[0].dedicated_nodes is set; Flightdeck does not create nodes on an existing cluster",
    ),
    "team-cloud-permissions": (
        ("    quota: {cpu: \"4\", memory: 8Gi, pods: 30}\n",
         "    quota: {cpu: \"4\", memory: 8Gi, pods: 30}\n    permissions: {buckets: [{bucket: example-data}]}\n"),
        "teams[0].permissions is set; an existing cluster gets no cloud identities from Flightdeck",
    ),
    "cloud-secret-name": (
        ("airflow:\n", "datadog:\n  site: datadoghq.eu\n  api_key_secret: flightdeck/datadog\n  monitors: {notify: ['@slack-x']}\nairflow:\n"),
        "datadog.api_key_secret: 'flightdeck/datadog' is not a Kubernetes secret name; "
        "on an existing cluster secrets live in existing.secrets_namespace",
    ),
    "cloud-section": (
        ("airflow:\n", "network:\n  cidr: 10.0.0.0/16\nairflow:\n"),
        "network: unknown key; expected one of: tier, project, owner, cost_center, airflow, datadog, teams, cloud, existing, state",
    ),
    "s3-state-without-region": (
        ("airflow:\n", "state: {bucket: example-tfstate}\nairflow:\n"),
        "state.region is not set; an S3 state bucket needs its region on an existing cluster",
    ),
}


@pytest.mark.parametrize("case", sorted(EXISTING_BAD_INPUTS))
def test_existing_cluster_rules(case: str, existing_files: Path) -> None:
    (old, new), expected = EXISTING_BAD_INPUTS[case]
    edit(existing_files / "dev.yaml", old, new)
    with pytest.raises(ConfigError) as raised:
        load_environment(existing_files / "dev.yaml")
    assert str(raised.value) == f"{existing_files / 'dev.yaml'}: {expected}"


def test_overrides_reach_cloud_specific_fields(gke_files: Path) -> None:
    overrides = parse_overrides({"FLIGHTDECK_SET_DEV__GCP__PROJECT_ID": "other-airflow-dev", "FLIGHTDECK_SET__AIRFLOW__IMAGE__TAG": "3.10"})
    config = load_environment(gke_files / "dev.yaml", overrides)
    assert isinstance(config, GcpEnvironment)
    assert config.gcp.project_id == "other-airflow-dev" and config.airflow.image.tag == "3.10"
    with pytest.raises(ConfigError, match=r"FLIGHTDECK_SET__GCP__PROJECTID: 'gcp\.projectid' is not a setting"):
        parse_overrides({"FLIGHTDECK_SET__GCP__PROJECTID": "x"})


def test_bad_gcp_file_through_main_exits_2_and_writes_nothing(gke_files: Path, tmp_path: Path) -> None:
    edit(gke_files / "prod.yaml", "network:\n", "cluster:\n  regional: false\nnetwork:\n")
    outdir = tmp_path / "out"
    outdir.mkdir()
    (outdir / "previous-run").write_text("kept")
    result = run_main(outdir, environments=gke_files)
    assert result.returncode == 2
    assert result.stderr == f"flightdeck: {gke_files / 'prod.yaml'}: cluster.regional is false; only dev may run a zonal cluster\n"
    assert sorted(p.name for p in outdir.iterdir()) == ["previous-run"]


def test_a_point_in_time_may_be_the_upgrade_point_label_as_it_is(gke_files: Path) -> None:
    """The rollback copies the instance's airflow-upgrade-point label from gcloud; it is read as the time it names."""
    edit(gke_files / "prod.yaml", "network:\n", "database:\n  restore_from: {instance: r1, point_in_time: 20261201t021000z}\nnetwork:\n")
    config = load_environment(gke_files / "prod.yaml")
    assert isinstance(config, GcpEnvironment) and config.database.restore_from is not None
    assert config.database.restore_from.point_in_time == "2026-12-01T02:10:00Z"

"""The GCP constructs on their own (``platform_constructs/gcp``): each refusal, with its whole message.

Props refuse what their construct cannot build as they are made, before any binding loads; a
refusal that needs the construct itself is reached by building it in a stack of its own.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import pytest

from platform_constructs.gcp.database import CloudSqlDatabaseProps, image_label, postgres_version, version_label
from platform_constructs.gcp.gke import GkeClusterProps
from platform_constructs.gcp.identity import LogBucketAccess, WorkloadIdentitiesProps, team_bucket_grants
from platform_constructs.gcp.labels import gcp_labels
from platform_constructs.gcp.network import GcpNetworkLayout
from platform_constructs.gcp.props import CloudSqlSettings, GkeNodePoolSpec, GkeSettings
from platform_constructs.gcp.storage import ArtifactRepositoryProps, GcsLogBucketProps
from platform_constructs.kubernetes.namespace import QuotaSpec
from platform_constructs.placement import SYSTEM_POOL, WORKERS_POOL, NodePool
from platform_constructs.teams import BucketGrant, TeamSpec

from .refusal import Refusals, refused_with

LAYOUT = GcpNetworkLayout.of("10.120.0.0/16")
"""pods 10.120.0.0/17, nodes 10.120.128.0/20, services 10.120.144.0/20, database 10.120.160.0/20,
proxy-only 10.120.176.0/23, control plane 10.120.178.0/28."""

DATABASE = CloudSqlSettings(
    engine_version="16",
    tier="db-custom-2-7680",
    disk_size_gib=50,
    disk_autoresize_limit_gib=500,
    high_availability=True,
    deletion_protection=True,
    backup_retention_days=14,
    point_in_time_recovery_days=7,
    final_backup=True,
)


def database(**settings: Any) -> CloudSqlDatabaseProps:
    return CloudSqlDatabaseProps(
        name="flightdeck-prod",
        project_id="example-airflow-prod",
        region="europe-west1",
        settings=replace(DATABASE, **settings),
        network_id="projects/example-airflow-prod/global/networks/flightdeck-prod",
        allocated_ip_range="flightdeck-prod-database",
        private_cidr=LAYOUT.database,
        service_networking=object(),  # type: ignore[arg-type]
        labels={},
    )


def node_pool(pool: NodePool = SYSTEM_POOL, min_nodes: int = 1, initial_nodes: int = 1, max_nodes: int = 3) -> GkeNodePoolSpec:
    return GkeNodePoolSpec(
        pool=pool, machine_type="e2-standard-4", min_nodes=min_nodes, initial_nodes=initial_nodes, max_nodes=max_nodes, disk_size_gib=50
    )


def cluster(zones: Sequence[str] = ("europe-west1-b", "europe-west1-c"), **settings: Any) -> GkeClusterProps:
    return GkeClusterProps(
        name="flightdeck-prod",
        project_id="example-airflow-prod",
        region="europe-west1",
        zones=zones,
        settings=GkeSettings(
            **{"kubernetes_version": "1.33", "release_channel": "REGULAR", "regional": True, "node_pools": [node_pool()], **settings}
        ),
        network_id="projects/example-airflow-prod/global/networks/flightdeck-prod",
        subnetwork_id="projects/example-airflow-prod/regions/europe-west1/subnetworks/flightdeck-prod-nodes",
        layout=LAYOUT,
        labels={},
    )


def workload_identities(prefixes: Sequence[str], project_number: str) -> WorkloadIdentitiesProps:
    return WorkloadIdentitiesProps(
        name_prefix="flightdeck-prod",
        project_id="example-airflow-prod",
        workloads=[],
        task_logs=LogBucketAccess(bucket="flightdeck-prod-logs", prefix="airflow/"),
        workload_pool_ready=[],
        readable_secret_prefixes=prefixes,
        project_number=project_number,
    )


def team(*buckets: BucketGrant) -> TeamSpec:
    return TeamSpec(name="analytics", cost_center="CC-1042", quota=QuotaSpec(cpu="4", memory="16Gi", pods=20), tags={}, buckets=buckets)


REFUSED: Refusals = {
    "GCS log expiry under a day": (
        lambda: GcsLogBucketProps(name="logs", project_id="p", region="europe-west1", expire_after_days=-1),
        "log expiry must be at least one day, got -1",
    ),
    "untagged images kept under a day": (
        lambda: ArtifactRepositoryProps(name="r", project_id="p", region="europe-west1", keep_untagged_days=0),
        "untagged images must be kept at least one day, got 0",
    ),
    # Cloud SQL
    "an engine version in words": (
        lambda: postgres_version("sixteen"),
        "database engine_version 'sixteen' is not a PostgreSQL version like 16",
    ),
    "an engine version that names no major": (
        lambda: database(engine_version="latest"),
        "database engine_version 'latest' is not a PostgreSQL version like 16",
    ),
    "a disk that may not grow to its own size": (
        lambda: database(disk_autoresize_limit_gib=20),
        "database disk_autoresize_limit_gib 20 is below disk_size_gib 50",
    ),
    "no daily backup kept": (
        lambda: database(backup_retention_days=0),
        "database backup_retention_days must be 1 to 365, got 0",
    ),
    "daily backups kept over a year": (
        lambda: database(backup_retention_days=366),
        "database backup_retention_days must be 1 to 365, got 366",
    ),
    "point-in-time recovery beyond Enterprise's week": (
        lambda: database(point_in_time_recovery_days=8),
        "database point_in_time_recovery_days must be 0 (off) to 7 on Cloud SQL Enterprise, got 8",
    ),
    "negative point-in-time recovery": (
        lambda: database(point_in_time_recovery_days=-1),
        "database point_in_time_recovery_days must be 0 (off) to 7 on Cloud SQL Enterprise, got -1",
    ),
    # GKE
    "a cluster without zones": (
        lambda: cluster(zones=()),
        "cluster flightdeck-prod: no zones given; list the zones of europe-west1 the nodes run in",
    ),
    "zones of other regions": (
        lambda: cluster(zones=("europe-west1-b", "europe-west10-a", "us-central1-a")),
        "cluster flightdeck-prod: zones europe-west10-a, us-central1-a are not in region europe-west1",
    ),
    "a release channel GKE does not have": (
        lambda: cluster(release_channel="NIGHTLY"),
        "cluster flightdeck-prod: release channel 'NIGHTLY' is not one of RAPID, REGULAR, STABLE, EXTENDED",
    ),
    "a cluster without node pools": (
        lambda: cluster(node_pools=[]),
        "cluster flightdeck-prod: no node pools; the system pool at least is needed",
    ),
    "two node pools of one name": (
        lambda: cluster(node_pools=[node_pool(WORKERS_POOL), node_pool(), node_pool(WORKERS_POOL), node_pool()]),
        "cluster flightdeck-prod: node pool names system, workers are used twice",
    ),
    "a floor above the initial size": (
        lambda: cluster(node_pools=[node_pool(), node_pool(WORKERS_POOL, min_nodes=2, initial_nodes=1)]),
        "node pool workers: sizes must satisfy 0 <= min (2) <= initial (1) <= max (3), with max at least 1",
    ),
    "an initial size above the ceiling": (
        lambda: cluster(node_pools=[node_pool(initial_nodes=4)]),
        "node pool system: sizes must satisfy 0 <= min (1) <= initial (4) <= max (3), with max at least 1",
    ),
    "a negative floor": (
        lambda: cluster(node_pools=[node_pool(min_nodes=-1)]),
        "node pool system: sizes must satisfy 0 <= min (-1) <= initial (1) <= max (3), with max at least 1",
    ),
    "a pool that may never have a node": (
        lambda: cluster(node_pools=[node_pool(WORKERS_POOL, min_nodes=0, initial_nodes=0, max_nodes=0)]),
        "node pool workers: sizes must satisfy 0 <= min (0) <= initial (0) <= max (0), with max at least 1",
    ),
    "a master authorized cidr that is no network": (
        lambda: cluster(master_authorized_cidrs=["office"]),
        "cluster flightdeck-prod: master authorized cidr 'office' is not a network ('office' does not appear to be an IPv4 or IPv6 network)",
    ),
    "a master authorized cidr with host bits": (
        lambda: cluster(master_authorized_cidrs=["10.0.0.1/8"]),
        "cluster flightdeck-prod: master authorized cidr '10.0.0.1/8' is not a network (10.0.0.1/8 has host bits set)",
    ),
    "a public range for a private endpoint": (
        lambda: cluster(master_authorized_cidrs=["192.168.0.0/24", "35.191.0.0/16"]),
        "cluster flightdeck-prod: 35.191.0.0/16 is a public range, but the API server has only a private endpoint; "
        "allow public access to the endpoint or list internal ranges only",
    ),
    # Identities
    "secret prefixes without the project's number": (
        lambda: workload_identities(["flightdeck-prod-airflow-connections-"], project_number=""),
        "readable_secret_prefixes need the project's number (Secret Manager names secrets by it)",
    ),
    "one bucket prefix granted twice": (
        lambda: team_bucket_grants(team(BucketGrant(bucket="lake", prefix="raw/"), BucketGrant(bucket="lake", prefix="raw/", write=True))),
        "team analytics is granted bucket lake prefix 'raw/' twice; keep one grant",
    ),
    # Labels
    "two tags that become one label": (
        lambda: gcp_labels({"Cost.Center": "a", "cost_center": "b"}),
        "tags 'Cost.Center' and 'cost_center' both become GCP label 'cost_center'; rename one of them",
    ),
    # Network
    "a VPC range with host bits": (
        lambda: GcpNetworkLayout.of("10.120.0.1/16"),
        "network cidr '10.120.0.1/16' is not an IPv4 network with its host bits zero (10.120.0.1/16 has host bits set)",
    ),
    "an IPv6 VPC range": (
        lambda: GcpNetworkLayout.of("fd00::/48"),
        "network cidr 'fd00::/48' is not an IPv4 network with its host bits zero (Expected 4 octets in 'fd00::')",
    ),
    "a VPC range too small to carve": (
        lambda: GcpNetworkLayout.of("10.120.0.0/21"),
        "network cidr 10.120.0.0/21 is a /21; a GKE environment needs a /16 to /20 (half of it is the pods' range)",
    ),
    "a VPC range larger than the layout": (
        lambda: GcpNetworkLayout.of("10.120.0.0/15"),
        "network cidr 10.120.0.0/15 is a /15; a GKE environment needs a /16 to /20 (half of it is the pods' range)",
    ),
    # A layout ``of`` carves always passes its own check; these are layouts it would never carve.
    "a range outside the VPC": (
        lambda: replace(LAYOUT, pods="10.0.0.0/17")._check(),
        "the pods range 10.0.0.0/17 is not inside the network cidr 10.120.0.0/16",
    ),
    "two ranges that overlap": (
        lambda: replace(LAYOUT, services="10.120.128.0/21")._check(),
        "the nodes range 10.120.128.0/20 overlaps the services range 10.120.128.0/21",
    ),
    "a Cloud SQL range under a /24": (
        lambda: replace(LAYOUT, database="10.120.160.0/25")._check(),
        "Cloud SQL's range 10.120.160.0/25 is smaller than the /24 Google requires",
    ),
    "a proxy-only subnet under a /26": (
        lambda: replace(LAYOUT, proxy_only="10.120.176.0/27")._check(),
        "the proxy-only subnet 10.120.176.0/27 is smaller than the /26 Google requires",
    ),
    "a control plane range that is no /28": (
        lambda: replace(LAYOUT, control_plane="10.120.178.0/27")._check(),
        "the control plane range 10.120.178.0/27 must be a /28",
    ),
}


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_gcp_constructs_refuse_what_they_cannot_build(case: str) -> None:
    make, message = REFUSED[case]
    assert refused_with(make) == message


def test_props_within_their_limits_are_accepted() -> None:
    GcsLogBucketProps(name="logs", project_id="p", region="europe-west1", expire_after_days=1)
    ArtifactRepositoryProps(name="r", project_id="p", region="europe-west1", keep_untagged_days=1)
    # Cloud SQL: a limit equal to the disk, none at all (0), and the ends of each range.
    database(engine_version="16.4", disk_autoresize_limit_gib=50, backup_retention_days=1, point_in_time_recovery_days=0)
    database(disk_autoresize_limit_gib=0, backup_retention_days=365, point_in_time_recovery_days=7)
    # GKE: one zone, every channel, pools that may shrink to nothing, internal ranges for a private
    # endpoint and a public one once the endpoint is public.
    cluster(zones=("europe-west1-b",), regional=False)
    for channel in ("RAPID", "REGULAR", "STABLE", "EXTENDED"):
        cluster(release_channel=channel)
    cluster(node_pools=[node_pool(), node_pool(WORKERS_POOL, min_nodes=0, initial_nodes=0, max_nodes=1)])
    cluster(node_pools=[node_pool(min_nodes=3, initial_nodes=3, max_nodes=3)])
    cluster(master_authorized_cidrs=["192.168.0.0/24", "100.64.0.0/10"])
    cluster(master_authorized_cidrs=["35.191.0.0/16"], private_endpoint=False)
    # Identities: secret prefixes with the project's number, or neither.
    workload_identities(["flightdeck-prod-airflow-connections-"], project_number="123456789012")
    workload_identities([], project_number="")
    # Network: the ends of the range a layout is carved from, and the least each range may be.
    GcpNetworkLayout.of("10.120.0.0/16")
    GcpNetworkLayout.of("10.120.0.0/20")
    replace(LAYOUT, database="10.120.160.0/24", proxy_only="10.120.176.0/26")._check()


def test_a_team_gets_one_grant_per_bucket_and_prefix() -> None:
    grants = team_bucket_grants(
        team(BucketGrant(bucket="lake", prefix="raw/"), BucketGrant(bucket="lake", prefix="curated/", write=True), BucketGrant(bucket="lake"))
    )
    assert [grant_id for grant_id, _ in grants] == ["analytics-bucket-lake-raw", "analytics-bucket-lake-curated", "analytics-bucket-lake"]


def test_the_engine_is_named_by_its_major_version() -> None:
    assert postgres_version("16") == postgres_version("16.4") == "POSTGRES_16"


def test_the_records_are_valid_label_values() -> None:
    assert version_label("3.10.1") == "3-10-1"
    assert image_label("apache/airflow:3.2.2") == image_label("apache/airflow:3.2.2") != image_label("apache/airflow:3.2.3")
    assert len(image_label("x" * 500)) == 12


def test_tags_become_labels() -> None:
    assert gcp_labels({"CostCenter": "CC-1042", "1st": "Yes"}) == {"costcenter": "cc-1042", "l_1st": "yes"}

"""Tier defaults: what dev, qa and prod get unless their file says otherwise.

The tiers differ in size and availability only. An environment file names its tier and
overrides single fields; the file is merged over these defaults key by key.

Every default is a model instance: the section's own model where a tier sets all of it
(``Cluster``, ``Database``), and its ``…ByTier`` base where the file must add the rest (a
network's range, the UI, who is notified). So a renamed or retyped field fails the type check
and the import of this module, not the first file that relies on the default.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel

from .config import (
    AboveThreshold,
    AirflowByTier,
    BelowThreshold,
    CloudSql,
    Cluster,
    Component,
    Components,
    Database,
    DatabaseCleanup,
    DatadogByTier,
    GcpNetworkByTier,
    GkeCluster,
    Hibernation,
    MonitorsByTier,
    NetworkByTier,
    NodeGroup,
    NodeGroups,
    NodePoolCapacity,
    NodePools,
    Quota,
    Resources,
    SystemNodeGroup,
    TaskLogs,
    Tier,
)

KUBERNETES_VERSION = "1.33"
"""Every cluster's control plane, on both clouds (GKE's minimum within its release channel)."""
POSTGRES_MAJOR = "16"
EKS_NODE_IMAGE = "al2023@v20251110"
EC2_GENERAL_PURPOSE = ["m6i", "m6a", "m7i", "m5"]
"""Karpenter's families outside prod: four, so spot has many pools to choose from."""


@dataclasses.dataclass(frozen=True)
class TierDefaults:
    """What one tier sets on every cloud."""

    task_logs: TaskLogs
    """Not for an existing cluster: its owners keep the logs."""
    airflow: AirflowByTier
    datadog: DatadogByTier
    """Only for a file with a ``datadog:`` section, so a file without monitoring stays without it."""


@dataclasses.dataclass(frozen=True)
class AwsTierDefaults:
    network: NetworkByTier
    cluster: Cluster
    database: Database


@dataclasses.dataclass(frozen=True)
class GcpTierDefaults:
    network: GcpNetworkByTier
    cluster: GkeCluster
    database: CloudSql


def _component(replicas: int, cpu: str, memory: str) -> Component:
    return Component(replicas=replicas, resources=Resources(cpu=cpu, memory=memory))


def _above(critical: float, warning: float | None = None) -> AboveThreshold:
    return AboveThreshold(critical=critical, warning=warning)


AWS_TIERS: dict[Tier, AwsTierDefaults] = {
    Tier.DEV: AwsTierDefaults(
        network=NetworkByTier(availability_zones=2, nat_gateways="single", flow_logs=False, flow_log_retention_days=90),
        cluster=Cluster(
            kubernetes_version=KUBERNETES_VERSION,
            node_image=EKS_NODE_IMAGE,
            endpoint_public_access=False,
            log_retention_days=30,
            node_groups=SystemNodeGroup(system=NodeGroup(instance_types=["m6i.xlarge"], min_size=1, desired_size=1, max_size=3)),
            node_pools=NodePools(
                workers=NodePoolCapacity(instance_families=EC2_GENERAL_PURPOSE, capacity="spot", cpu_limit=16, memory_limit_gib=64),
                backfill=NodePoolCapacity(instance_families=EC2_GENERAL_PURPOSE, capacity="spot", cpu_limit=8, memory_limit_gib=32),
            ),
        ),
        database=Database(
            engine_version=POSTGRES_MAJOR,
            instance_class="db.t4g.medium",
            allocated_storage_gib=20,
            max_allocated_storage_gib=50,
            multi_az=False,
            deletion_protection=False,
            backup_retention_days=1,
            final_snapshot=False,
        ),
    ),
    Tier.QA: AwsTierDefaults(
        network=NetworkByTier(availability_zones=3, nat_gateways="single", flow_logs=False, flow_log_retention_days=90),
        cluster=Cluster(
            kubernetes_version=KUBERNETES_VERSION,
            node_image=EKS_NODE_IMAGE,
            endpoint_public_access=False,
            log_retention_days=90,
            # Three zones, one node in each: Airflow's pairs and the add-ons spread over them.
            node_groups=SystemNodeGroup(system=NodeGroup(instance_types=["m6i.xlarge"], min_size=3, desired_size=3, max_size=5)),
            node_pools=NodePools(
                workers=NodePoolCapacity(
                    instance_families=EC2_GENERAL_PURPOSE, capacity="spot-or-on-demand", cpu_limit=64, memory_limit_gib=256
                ),
                backfill=NodePoolCapacity(instance_families=EC2_GENERAL_PURPOSE, capacity="spot", cpu_limit=32, memory_limit_gib=128),
            ),
        ),
        database=Database(
            engine_version=POSTGRES_MAJOR,
            instance_class="db.m6g.large",
            allocated_storage_gib=50,
            max_allocated_storage_gib=200,
            multi_az=False,
            deletion_protection=True,
            backup_retention_days=7,
            final_snapshot=True,
        ),
    ),
    Tier.PROD: AwsTierDefaults(
        network=NetworkByTier(availability_zones=3, nat_gateways="per_az", flow_logs=True, flow_log_retention_days=365),
        cluster=Cluster(
            kubernetes_version=KUBERNETES_VERSION,
            node_image=EKS_NODE_IMAGE,
            endpoint_public_access=False,
            log_retention_days=365,
            node_groups=SystemNodeGroup(
                system=NodeGroup(instance_types=["m6i.2xlarge"], min_size=3, desired_size=3, max_size=6, disk_size_gib=100)
            ),
            node_pools=NodePools(
                # On-demand: spot reclaims a node within two minutes, whatever a task is doing. A file
                # may allow spot (spot-or-on-demand) where every task retries cleanly.
                workers=NodePoolCapacity(
                    instance_families=["m6i", "m7i", "c6i", "r6i"], capacity="on-demand", cpu_limit=240, memory_limit_gib=960
                ),
                backfill=NodePoolCapacity(instance_families=["m6i", "m7i", "c6i"], capacity="on-demand", cpu_limit=64, memory_limit_gib=256),
            ),
        ),
        database=Database(
            engine_version=POSTGRES_MAJOR,
            instance_class="db.r6g.large",
            allocated_storage_gib=100,
            max_allocated_storage_gib=1000,
            multi_az=True,
            deletion_protection=True,
            backup_retention_days=30,
            final_snapshot=True,
        ),
    ),
}

GCP_TIERS: dict[Tier, GcpTierDefaults] = {
    Tier.DEV: GcpTierDefaults(
        network=GcpNetworkByTier(flow_logs=False),
        cluster=GkeCluster(
            kubernetes_version=KUBERNETES_VERSION,
            release_channel="REGULAR",
            regional=False,
            endpoint_public_access=False,
            node_groups=NodeGroups(
                system=NodeGroup(instance_types=["e2-standard-4"], min_size=1, desired_size=2, max_size=3),
                workers=NodeGroup(instance_types=["e2-standard-4"], min_size=0, desired_size=1, max_size=4, capacity_type="SPOT"),
            ),
        ),
        database=CloudSql(
            engine_version=POSTGRES_MAJOR,
            tier="db-custom-2-7680",
            disk_size_gib=20,
            disk_autoresize_limit_gib=50,
            high_availability=False,
            deletion_protection=False,
            backup_retention_days=1,
            point_in_time_recovery_days=0,
            final_backup=False,
        ),
    ),
    Tier.QA: GcpTierDefaults(
        network=GcpNetworkByTier(flow_logs=False),
        cluster=GkeCluster(
            kubernetes_version=KUBERNETES_VERSION,
            release_channel="REGULAR",
            regional=True,
            endpoint_public_access=False,
            node_groups=NodeGroups(
                system=NodeGroup(instance_types=["n2-standard-2"], min_size=3, desired_size=3, max_size=6),
                workers=NodeGroup(instance_types=["n2-standard-4"], min_size=1, desired_size=3, max_size=9),
            ),
        ),
        database=CloudSql(
            engine_version=POSTGRES_MAJOR,
            tier="db-custom-2-8192",
            disk_size_gib=50,
            disk_autoresize_limit_gib=200,
            high_availability=False,
            deletion_protection=True,
            backup_retention_days=7,
            point_in_time_recovery_days=3,
            final_backup=True,
        ),
    ),
    Tier.PROD: GcpTierDefaults(
        network=GcpNetworkByTier(flow_logs=True),
        cluster=GkeCluster(
            kubernetes_version=KUBERNETES_VERSION,
            release_channel="REGULAR",
            regional=True,
            endpoint_public_access=False,
            node_groups=NodeGroups(
                system=NodeGroup(instance_types=["n2-standard-4"], min_size=3, desired_size=3, max_size=6, disk_size_gib=100),
                workers=NodeGroup(instance_types=["n2-standard-8"], min_size=3, desired_size=3, max_size=30, disk_size_gib=100),
            ),
        ),
        database=CloudSql(
            engine_version=POSTGRES_MAJOR,
            tier="db-custom-4-16384",
            disk_size_gib=100,
            disk_autoresize_limit_gib=1000,
            high_availability=True,
            deletion_protection=True,
            backup_retention_days=30,
            point_in_time_recovery_days=7,
            final_backup=True,
        ),
    ),
}

CLOUD_TIERS: dict[str, dict[Tier, AwsTierDefaults] | dict[Tier, GcpTierDefaults]] = {"aws": AWS_TIERS, "gcp": GCP_TIERS}
"""Per cloud, each tier's cloud sections; an existing cluster has none."""

TIERS: dict[Tier, TierDefaults] = {
    Tier.DEV: TierDefaults(
        task_logs=TaskLogs(expire_after_days=14),
        airflow=AirflowByTier(
            components=Components(
                scheduler=_component(1, "500m", "1Gi"),
                api_server=_component(1, "250m", "1Gi"),
                triggerer=_component(1, "250m", "512Mi"),
                dag_processor=_component(1, "250m", "1Gi"),
                pgbouncer=_component(1, "100m", "128Mi"),
            ),
            task_resources=Resources(cpu="250m", memory="512Mi"),
            quota=Quota(cpu="16", memory="64Gi", pods=100),
            create_admin_user=True,
            hibernation=Hibernation(enabled=True),
            database_cleanup=DatabaseCleanup(retention_days=30),
            celery_workers=1,
        ),
        datadog=DatadogByTier(
            cluster_agent_replicas=1,
            monitors=MonitorsByTier(
                priority=4,
                scheduler_heartbeat_minutes=15,
                task_failure_percent=_above(50, 25),
                import_errors=_above(1),
                queued_tasks=_above(100, 50),
                pending_pod_minutes=30,
                database_cpu_percent=_above(95, 85),
                database_free_storage_gib=BelowThreshold(critical=2, warning=5),
                database_connections=_above(80, 60),
                provisioning_failures=_above(10, 5),
            ),
        ),
    ),
    Tier.QA: TierDefaults(
        task_logs=TaskLogs(expire_after_days=30),
        airflow=AirflowByTier(
            components=Components(
                scheduler=_component(2, "1", "2Gi"),
                api_server=_component(2, "500m", "1Gi"),
                triggerer=_component(2, "250m", "512Mi"),
                dag_processor=_component(1, "500m", "1Gi"),
                pgbouncer=_component(2, "100m", "128Mi"),
            ),
            task_resources=Resources(cpu="500m", memory="1Gi"),
            quota=Quota(cpu="48", memory="192Gi", pods=300),
            create_admin_user=False,
            hibernation=Hibernation(enabled=False),
            database_cleanup=DatabaseCleanup(retention_days=60),
            celery_workers=2,
        ),
        datadog=DatadogByTier(
            cluster_agent_replicas=2,
            monitors=MonitorsByTier(
                priority=3,
                scheduler_heartbeat_minutes=10,
                task_failure_percent=_above(30, 15),
                import_errors=_above(1),
                queued_tasks=_above(200, 100),
                pending_pod_minutes=20,
                database_cpu_percent=_above(90, 80),
                database_free_storage_gib=BelowThreshold(critical=5, warning=10),
                database_connections=_above(150, 100),
                provisioning_failures=_above(5, 3),
            ),
        ),
    ),
    Tier.PROD: TierDefaults(
        task_logs=TaskLogs(expire_after_days=365),
        airflow=AirflowByTier(
            components=Components(
                scheduler=_component(3, "2", "4Gi"),
                api_server=_component(3, "1", "2Gi"),
                triggerer=_component(2, "500m", "1Gi"),
                dag_processor=_component(2, "1", "2Gi"),
                pgbouncer=_component(2, "250m", "256Mi"),
            ),
            task_resources=Resources(cpu="500m", memory="1Gi"),
            quota=Quota(cpu="200", memory="800Gi", pods=1500),
            create_admin_user=False,
            hibernation=Hibernation(enabled=False),
            database_cleanup=DatabaseCleanup(retention_days=180),
            celery_workers=4,
            deploy_timeout_minutes=30,
        ),
        datadog=DatadogByTier(
            cluster_agent_replicas=2,
            monitors=MonitorsByTier(
                priority=1,
                renotify_minutes=60,
                scheduler_heartbeat_minutes=5,
                task_failure_percent=_above(20, 10),
                import_errors=_above(1),
                queued_tasks=_above(500, 250),
                pending_pod_minutes=15,
                database_cpu_percent=_above(85, 70),
                database_free_storage_gib=BelowThreshold(critical=10, warning=25),
                database_connections=_above(300, 200),
                provisioning_failures=_above(3, 1),
            ),
        ),
    ),
}


def _sections(defaults: Any, names: Iterable[str] | None = None) -> dict[str, dict[str, Any]]:
    """The named sections of a defaults record (all of them by default) as mappings a file is merged over."""
    chosen = [f.name for f in dataclasses.fields(defaults)] if names is None else list(names)
    sections: dict[str, dict[str, Any]] = {}
    for name in chosen:
        model: BaseModel = getattr(defaults, name)
        sections[name] = model.model_dump(exclude_unset=True)
    return sections


def deep_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """Return ``base`` with ``override`` laid over it; nested mappings merge, anything else replaces."""
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def tier_defaults(tier: Tier, cloud: str = "aws", sections: Iterable[str] = ()) -> dict[str, Any]:
    """The defaults of one tier on one cloud, as a fresh mapping the caller may change.

    ``sections`` names the optional sections the file has (``datadog``); only those get defaults,
    so a file without monitoring stays without it. An existing cluster gets no cloud sections
    (and so no task-log expiry either: its owners keep the logs).
    """
    wanted = ["airflow"] + (["task_logs"] if cloud != "existing" else []) + (["datadog"] if "datadog" in sections else [])
    defaults = _sections(TIERS[tier], wanted)
    by_cloud = CLOUD_TIERS.get(cloud)
    if by_cloud is not None:
        defaults.update(_sections(by_cloud[tier]))
    return defaults

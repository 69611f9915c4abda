"""The GCP side of the cloud seam: the platform stack's providers, backend and GcpPlatform props (the only place that translates them)."""

from __future__ import annotations

from dataclasses import replace

from cdktf import TerraformStack

from flightdeck.config import GcpEnvironment, NodeGroup
from platform_constructs.gcp.labels import gcp_labels
from platform_constructs.gcp.platform import GcpPlatform
from platform_constructs.gcp.props import (
    CloudSqlRestore,
    CloudSqlSettings,
    GcpNetworkSettings,
    GcpPlatformProps,
    GkeNodePoolSpec,
    GkeSettings,
    ManagedZone,
)
from platform_constructs.handles import CloudPlatform
from platform_constructs.placement import GKE_SYSTEM_TAINT, SYSTEM_POOL, WORKERS_POOL, NodePool, team_pool
from platform_constructs.workloads import AIRFLOW_WORKLOADS, AirflowInstance

from .backends import environment_backend
from .ci import DeploySettings
from .teams import team_specs


def _node_pool(pool: NodePool, group: NodeGroup, labels: dict[str, str] | None = None) -> GkeNodePoolSpec:
    return GkeNodePoolSpec(
        pool=pool,
        machine_type=group.instance_types[0],
        min_nodes=group.min_size,
        initial_nodes=group.desired_size,
        max_nodes=group.max_size,
        disk_size_gib=group.disk_size_gib,
        spot=group.capacity_type == "SPOT",
        labels=labels,
    )


def platform_props(config: GcpEnvironment) -> GcpPlatformProps:
    gcp = config.gcp
    cluster = config.cluster
    database = config.database
    return GcpPlatformProps(
        name=config.resource_prefix,
        project_id=gcp.project_id,
        region=gcp.region,
        zones=tuple(gcp.zones),
        labels=gcp_labels(config.tags),
        network=GcpNetworkSettings(cidr=config.network.cidr, flow_logs=config.network.flow_logs),
        cluster=GkeSettings(
            kubernetes_version=cluster.kubernetes_version,
            release_channel=cluster.release_channel,
            regional=cluster.regional,
            node_pools=(
                # GKE's own components tolerate only GKE's taint for a dedicated system pool.
                _node_pool(replace(SYSTEM_POOL, taints=(GKE_SYSTEM_TAINT,), also_tolerated=()), cluster.node_groups.system),
                _node_pool(WORKERS_POOL, cluster.node_groups.workers),
                *(
                    _node_pool(team_pool(team.name), team.dedicated_nodes, gcp_labels(config.team_tags(team)))
                    for team in config.teams
                    if team.dedicated_nodes is not None
                ),
            ),
            private_endpoint=not cluster.endpoint_public_access,
            master_authorized_cidrs=tuple(cluster.public_access_cidrs),
            # Deleting the cluster is refused wherever deleting the database is.
            deletion_protection=database.deletion_protection,
        ),
        database=CloudSqlSettings(
            engine_version=database.engine_version,
            tier=database.tier,
            disk_size_gib=database.disk_size_gib,
            disk_autoresize_limit_gib=database.disk_autoresize_limit_gib,
            high_availability=database.high_availability,
            deletion_protection=database.deletion_protection,
            backup_retention_days=database.backup_retention_days,
            point_in_time_recovery_days=database.point_in_time_recovery_days,
            final_backup=database.final_backup,
            restore=(
                CloudSqlRestore(instance=r.instance, replaces=r.replaces, point_in_time=r.point_in_time, backup_run_id=r.backup_run_id)
                if (r := database.restore_from)
                else None
            ),
            airflow_image=config.airflow.image.reference(config.image_repository_name),
            airflow_version=config.airflow.image.version,
        ),
        log_bucket_name=config.log_bucket_name,
        log_expire_after_days=config.task_logs.expire_after_days,
        image_repository_name=config.image_repository_name,
        image_keep_untagged_days=config.image_repository.keep_untagged_days,
        workloads=AIRFLOW_WORKLOADS,
        dedicated_airflows=tuple(AirflowInstance(team.name) for team in config.dedicated_teams),
        dns_zone=ManagedZone(name=zone.id, domain=zone.domain, owner=config.resource_prefix) if (zone := config.airflow.ui.dns_zone) else None,
        readable_secret_names=tuple(config.synced_secret_names),
        teams=team_specs(config),
    )


def platform(stack: TerraformStack, config: GcpEnvironment, deploy: DeploySettings | None) -> CloudPlatform:
    """``deploy`` is not used: the cluster stack reaches GKE's DNS-based endpoint from anywhere, by IAM (see the README)."""
    from cdktf_cdktf_provider_google.provider import GoogleProvider
    from cdktf_cdktf_provider_random.provider import RandomProvider

    environment_backend(stack, config, "platform")
    provider = GoogleProvider(stack, "google", project=config.gcp.project_id, region=config.gcp.region)
    # Set as an override: cdktf snake-cases the keys of provider maps (``managed-by`` → ``managed_by``),
    # which would label every resource differently from what the configuration says.
    provider.add_override("default_labels", gcp_labels(config.tags))
    RandomProvider(stack, "random")
    return GcpPlatform(stack, "platform", platform_props(config)).platform


def cluster(stack: TerraformStack, config: GcpEnvironment, platform: CloudPlatform | None) -> CloudPlatform:
    """The cluster stack's view of the platform: its handles, read from the platform stack's outputs."""
    if platform is None:
        raise ValueError(f"{config.source}: the cluster stack of a GCP environment needs its platform stack")
    environment_backend(stack, config, "cluster")
    return platform.seen_from_another_stack()

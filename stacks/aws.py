"""The AWS side of the cloud seam: the platform stack's provider, backend and AwsPlatform props (the only place that translates them)."""

from __future__ import annotations

from cdktf import TerraformOutput, TerraformStack

from flightdeck import ci
from flightdeck.config import AwsEnvironment, CapacityType, NodeGroup, NodePoolCapacity, Tier
from platform_constructs.aws.cluster_services import HostedZone
from platform_constructs.aws.database import DatabaseOptions, Restore
from platform_constructs.aws.eks import NodeGroupSpec
from platform_constructs.aws.karpenter import KarpenterPool
from platform_constructs.aws.platform import (
    AwsPlatform,
    AwsPlatformProps,
    ClusterSettings,
    NetworkSettings,
)
from platform_constructs.aws.runner import DeployRunnerOptions
from platform_constructs.handles import CloudPlatform
from platform_constructs.placement import BACKFILL_POOL, SYSTEM_POOL, WORKERS_POOL, NodePool, team_pool
from platform_constructs.workloads import AIRFLOW_WORKLOADS, AirflowInstance

from .backends import environment_backend
from .ci import DeploySettings
from .teams import team_specs


def _node_group(pool: NodePool, group: NodeGroup, tags: dict[str, str] | None = None) -> NodeGroupSpec:
    return NodeGroupSpec(
        pool=pool,
        instance_types=tuple(group.instance_types),
        min_size=group.min_size,
        desired_size=group.desired_size,
        max_size=group.max_size,
        disk_size_gib=group.disk_size_gib,
        capacity_type=group.capacity_type,
        tags=tags or {},
    )


CAPACITY_TYPES: dict[CapacityType, tuple[str, ...]] = {
    "spot": ("spot",),
    "on-demand": ("on-demand",),
    # Both allowed: Karpenter launches spot first and falls back to on-demand when spot has none.
    "spot-or-on-demand": ("spot", "on-demand"),
}


def _karpenter_pool(pool: NodePool, capacity: NodePoolCapacity, tags: dict[str, str] | None = None) -> KarpenterPool:
    return KarpenterPool(
        pool=pool,
        instance_families=tuple(capacity.instance_families),
        capacity_types=CAPACITY_TYPES[capacity.capacity],
        cpu_limit=capacity.cpu_limit,
        memory_limit_gib=capacity.memory_limit_gib,
        disk_size_gib=capacity.disk_size_gib,
        architecture=capacity.architecture,
        tags=tags or {},
    )


def platform_props(config: AwsEnvironment, deploy: DeploySettings | None = None) -> AwsPlatformProps:
    aws = config.aws
    return AwsPlatformProps(
        name=config.resource_prefix,
        account_id=aws.account_id,
        region=aws.region,
        partition=aws.partition,
        tags=config.tags,
        network=NetworkSettings(
            cidr=config.network.cidr,
            zones=config.network.availability_zones,
            nat_gateways=config.network.nat_gateways,
            flow_logs=config.network.flow_logs,
            flow_log_retention_days=config.network.flow_log_retention_days,
        ),
        cluster=ClusterSettings(
            kubernetes_version=config.cluster.kubernetes_version,
            node_groups=(_node_group(SYSTEM_POOL, config.cluster.node_groups.system),),
            karpenter_pools=(
                _karpenter_pool(WORKERS_POOL, config.cluster.node_pools.workers),
                _karpenter_pool(BACKFILL_POOL, config.cluster.node_pools.backfill),
                *(
                    _karpenter_pool(team_pool(team.name), team.dedicated_nodes, config.team_tags(team))
                    for team in config.teams
                    if team.dedicated_nodes is not None
                ),
            ),
            node_image=config.cluster.node_image,
            # One of each controller in dev (it restarts within a minute); two elsewhere.
            controller_replicas=1 if config.tier is Tier.DEV else 2,
            endpoint_public_access=config.cluster.endpoint_public_access,
            public_access_cidrs=tuple(config.cluster.public_access_cidrs),
            log_retention_days=config.cluster.log_retention_days,
            # Airflow's own components' logs: Datadog collects them where it is configured, CloudWatch otherwise.
            container_logs=config.datadog is None,
            admin_role_arns=tuple(config.cluster.admin_role_arns),
            addon_versions={str(name): version for name, version in config.cluster.addon_versions.items()},
            bastion=config.cluster.bastion,
        ),
        database=DatabaseOptions(
            engine_version=config.database.engine_version,
            instance_class=config.database.instance_class,
            allocated_storage_gib=config.database.allocated_storage_gib,
            max_allocated_storage_gib=config.database.max_allocated_storage_gib,
            multi_az=config.database.multi_az,
            deletion_protection=config.database.deletion_protection,
            backup_retention_days=config.database.backup_retention_days,
            final_snapshot=config.database.final_snapshot,
            restore=Restore(snapshot=r.snapshot, instance=r.instance, replaces=r.replaces) if (r := config.database.restore_from) else None,
            airflow_image=config.airflow.image.reference(config.image_repository_name),
            airflow_version=config.airflow.image.version,
        ),
        log_bucket_name=config.log_bucket_name,
        log_expire_after_days=config.task_logs.expire_after_days,
        image_repository_name=config.image_repository_name,
        image_keep_untagged_days=config.image_repository.keep_untagged_days,
        workloads=AIRFLOW_WORKLOADS,
        dedicated_airflows=tuple(AirflowInstance(team.name) for team in config.dedicated_teams),
        dns_zone=HostedZone(id=zone.id, domain=zone.domain, owner=config.resource_prefix) if (zone := config.airflow.ui.dns_zone) else None,
        readable_secret_names=tuple(config.synced_secret_names),
        teams=team_specs(config),
        runner=DeployRunnerOptions(
            name=ci.runner_project(config),
            repository=deploy.repository,
            workflow_name=deploy.workflow_name,
            compute_type=config.runner.compute_type,
            image=config.runner.image,
            timeout_minutes=config.runner.timeout_minutes,
            log_retention_days=config.cluster.log_retention_days,
        )
        if deploy is not None
        else None,
        # With CI the deployer may create roles only with the boundary the bootstrap stack made; without, none exists.
        permissions_boundary=ci.boundary_arn(config) if deploy is not None else None,
    )


def platform(stack: TerraformStack, config: AwsEnvironment, deploy: DeploySettings | None) -> CloudPlatform:
    from cdktf_cdktf_provider_aws.provider import AwsProvider, AwsProviderDefaultTags

    environment_backend(stack, config, "platform")
    AwsProvider(
        stack,
        "aws",
        region=config.aws.region,
        allowed_account_ids=[config.aws.account_id],
        # Every taggable resource carries the environment's tags.
        default_tags=[AwsProviderDefaultTags(tags=config.tags)],
    )
    platform = AwsPlatform(stack, "platform", platform_props(config, deploy))
    if platform.bastion is not None:
        TerraformOutput(
            stack,
            "bastion_port_forward_command",
            value=platform.bastion.port_forward_command,
            description="Forwards localhost:443 to the private API endpoint (see the README, From a workstation)",
        )
    return platform.platform


def cluster(stack: TerraformStack, config: AwsEnvironment, platform: CloudPlatform | None) -> CloudPlatform:
    """The cluster stack's view of the platform: its handles, read from the platform stack's outputs."""
    if platform is None:
        raise ValueError(f"{config.source}: the cluster stack of an AWS environment needs its platform stack")
    environment_backend(stack, config, "cluster")
    return platform.seen_from_another_stack()

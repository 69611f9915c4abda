"""Translate the ``teams:`` section into team specs (cloud-neutral), once for every layer."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from flightdeck.config import EnvironmentConfig, Tier
from platform_constructs.handles import CloudPlatform
from platform_constructs.kubernetes.namespace import DefaultResources, QuotaSpec
from platform_constructs.kubernetes.tenancy import AirflowTaskRule, PodPoliciesProps, TeamsProps
from platform_constructs.teams import BucketGrant, TeamSpec

from .airflow import POD_LAUNCHERS, airflow_instances, served_teams

if TYPE_CHECKING:
    from cdktf import ITerraformDependable


def team_specs(config: EnvironmentConfig) -> tuple[TeamSpec, ...]:
    return tuple(
        TeamSpec(
            name=team.name,
            cost_center=team.cost_center,
            quota=QuotaSpec(cpu=team.quota.cpu, memory=team.quota.memory, pods=team.quota.pods),
            tags=config.team_tags(team),
            buckets=tuple(
                BucketGrant(bucket=grant.bucket, prefix=grant.prefix, write=grant.write)
                for grant in team.permissions.buckets
            ),
            secrets=tuple(team.permissions.secrets),
            dedicated_nodes=team.dedicated_nodes is not None,
            pool_slots=team.pool_slots,
        )
        for team in config.teams
    )


def teams_props(config: EnvironmentConfig, platform: CloudPlatform) -> TeamsProps:
    # Each team's pods are started by the Airflow that runs its DAGs, and by no other.
    launchers = {}
    for instance in airflow_instances(config):
        own = platform.for_airflow(instance)
        for team in served_teams(config, instance):
            launchers[team.name] = tuple(own.identities[name].workload for name in POD_LAUNCHERS)
    return TeamsProps(
        teams=team_specs(config),
        identities=platform.team_identities,
        launchers=launchers,
        default_resources=DefaultResources(cpu=config.airflow.task_resources.cpu, memory=config.airflow.task_resources.memory),
        network=platform.network,
        depends_on=tuple(platform.cluster.ready),
    )


def pod_policies_props(
    config: EnvironmentConfig, depends_on: Sequence[ITerraformDependable], airflow_tasks: Sequence[AirflowTaskRule] = ()
) -> PodPoliciesProps:
    return PodPoliciesProps(
        teams=team_specs(config),
        task_namespaces=tuple(config.airflow.task_namespaces),
        airflow_tasks=tuple(airflow_tasks),
        # Dev reports unlabelled pods instead of rejecting them; qa and prod enforce.
        validation_action="Audit" if config.tier is Tier.DEV else "Enforce",
        depends_on=tuple(depends_on),
    )

"""Translate the ``airflow:`` section and the cloud's handles into AirflowRelease props (cloud-neutral)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from flightdeck.config import EnvironmentConfig, Resources, SignIn, Tier
from platform_constructs.airflow.release import AirflowReleaseProps, HibernationSchedule
from platform_constructs.airflow.secrets import AirflowSecretsProps
from platform_constructs.airflow.signin import SignInSpec
from platform_constructs.airflow.values import AirflowValuesProps, CleanupSpec, ComponentSpec, GitDagSource, ResourceSpec, UiSpec
from platform_constructs.handles import CloudPlatform, StatsdSink
from platform_constructs.kubernetes.namespace import QuotaSpec
from platform_constructs.workloads import AIRFLOW_NAMESPACE

if TYPE_CHECKING:
    from cdktf import ITerraformDependable

# Components that start task pods: the scheduler (KubernetesExecutor), workers and the triggerer
# (KubernetesPodOperator, deferrable or not).
POD_LAUNCHERS = ("scheduler", "worker", "triggerer")


def _sign_in(auth: SignIn | None) -> SignInSpec | None:
    if auth is None:
        return None
    return SignInSpec(
        provider=auth.provider,
        client_id=auth.client_id,
        issuer=auth.issuer,
        tenant_id=auth.tenant_id,
        groups=dict(auth.groups),
        default_role=auth.default_role,
    )


def _resources(resources: Resources) -> ResourceSpec:
    return ResourceSpec(cpu=resources.cpu, memory=resources.memory)


def release_props(
    config: EnvironmentConfig,
    platform: CloudPlatform,
    metrics: StatsdSink | None = None,
    addons: Sequence[ITerraformDependable] = (),
) -> AirflowReleaseProps:
    airflow = config.airflow
    git = airflow.dags.git
    repository = airflow.image.repository
    if repository == "platform":
        if platform.image_repository is None:
            raise ValueError(f"{config.source}: airflow.image.repository is 'platform', but this cloud has no image repository")
        repository = platform.image_repository.url
    components = {
        name: ComponentSpec(replicas=spec.replicas, resources=_resources(spec.resources))
        for name, spec in airflow.components
    }
    values = AirflowValuesProps(
        namespace=AIRFLOW_NAMESPACE,
        executor=airflow.executor,
        image_repository=repository,
        image_tag=airflow.image.tag,
        components=components,
        task_resources=_resources(airflow.task_resources),
        identities=platform.identities,
        database=platform.database,
        log_store=platform.log_store,
        ingress=platform.ingress,
        ui=UiSpec(
            hostname=airflow.ui.hostname,
            certificate=airflow.ui.certificate,
            public=airflow.ui.public,
            allowed_cidrs=tuple(airflow.ui.allowed_cidrs),
        ),
        celery_workers=airflow.celery_workers,
        # Dev's Celery workers scale to zero when nothing is queued; qa and prod keep one warm.
        celery_min_workers=0 if config.tier is Tier.DEV else 1,
        git=GitDagSource(
            repository=git.repository, ref=git.ref, subdir=git.subdir, credentials=git.credentials_secret is not None
        )
        if git
        else None,
        create_admin_user=airflow.create_admin_user,
        zone_spread="DoNotSchedule" if config.tier is Tier.PROD else "ScheduleAnyway",
        config_overrides=airflow.config,
        metrics=metrics,
        sign_in=_sign_in(airflow.ui.auth),
        cleanup=CleanupSpec(retention_days=airflow.database_cleanup.retention_days, schedule=airflow.database_cleanup.schedule)
        if airflow.database_cleanup.enabled
        else None,
    )
    return AirflowReleaseProps(
        cluster=platform.cluster,
        network=platform.network,
        values=values,
        secrets=AirflowSecretsProps(
            namespace=AIRFLOW_NAMESPACE,
            store=platform.secret_store,
            database=platform.database,
            git_repository=git.repository if git else None,
            git_credentials_secret=git.credentials_secret if git else None,
            create_admin_password=airflow.create_admin_user,
            sign_in_secret=airflow.ui.auth.client_secret if airflow.ui.auth else None,
        ),
        quota=QuotaSpec(cpu=airflow.quota.cpu, memory=airflow.quota.memory, pods=airflow.quota.pods),
        task_namespaces=tuple(airflow.task_namespaces),
        launchers=tuple(platform.identities[name] for name in POD_LAUNCHERS),
        addons=tuple(addons),
        timeout_seconds=airflow.deploy_timeout_minutes * 60,
        # One pool per team, so one team's backlog cannot take every slot; one for backfills, so they
        # never starve scheduled runs (their pods go to the backfill nodes, see charts/pod-policies).
        pools={"backfill": airflow.backfill_pool_slots, **{f"team-{team.name}": team.pool_slots for team in config.teams}},
        hibernation=HibernationSchedule(sleep=airflow.hibernation.sleep, wake=airflow.hibernation.wake, time_zone=airflow.hibernation.time_zone)
        if airflow.hibernation.enabled
        else None,
    )

"""Translate the ``airflow:`` section and the cloud's handles into AirflowRelease props (cloud-neutral)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from flightdeck.config import EnvironmentConfig, Resources, SignIn, Team, Tier
from platform_constructs.airflow.database_roles import DatabaseRolesProps, database_role
from platform_constructs.airflow.release import AirflowReleaseProps, HibernationSchedule
from platform_constructs.airflow.secrets import AirflowSecretsProps
from platform_constructs.airflow.signin import SignInSpec
from platform_constructs.airflow.values import AirflowValuesProps, CleanupSpec, ComponentSpec, GitDagSource, ResourceSpec, UiSpec
from platform_constructs.handles import CloudPlatform, StatsdSink
from platform_constructs.kubernetes.namespace import QuotaSpec
from platform_constructs.workloads import SHARED_AIRFLOW, AirflowInstance

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


def airflow_instances(config: EnvironmentConfig) -> tuple[AirflowInstance, ...]:
    """Every Airflow of the environment: the shared one, then each team's own (``teams[].airflow: dedicated``)."""
    return (SHARED_AIRFLOW, *(AirflowInstance(team.name) for team in config.dedicated_teams))


def served_teams(config: EnvironmentConfig, instance: AirflowInstance) -> list[Team]:
    """The teams whose DAGs an Airflow runs: its own team, or (the shared one) every team without an Airflow of its own."""
    if instance.team is not None:
        return [team for team in config.teams if team.name == instance.team]
    return [team for team in config.teams if not team.airflow.dedicated]


def database_roles_props(
    config: EnvironmentConfig, platform: CloudPlatform, depends_on: Sequence[ITerraformDependable]
) -> DatabaseRolesProps | None:
    """Every Airflow's own database role; None where the store keeps nothing (an existing cluster: its owners' user)."""
    if platform.secret_store.keeps is None:
        return None
    roles = []
    for instance in airflow_instances(config):
        own = platform.for_airflow(instance)
        roles.append(database_role(instance, own.secret_store, own.database))
    return DatabaseRolesProps(
        database=platform.database,
        store=platform.secret_store,
        roles=tuple(roles),
        database_cidrs=platform.network.database_cidrs,
        depends_on=tuple(depends_on),
    )


def release_props(
    config: EnvironmentConfig,
    platform: CloudPlatform,
    instance: AirflowInstance = SHARED_AIRFLOW,
    metrics: StatsdSink | None = None,
    addons: Sequence[ITerraformDependable] = (),
    before: Sequence[ITerraformDependable] = (),
) -> AirflowReleaseProps:
    """One Airflow's props; ``platform`` is the cloud's handles as that Airflow sees them (``CloudPlatform.for_airflow``)."""
    airflow = config.airflow
    # airflow.config was checked against MANAGED_CONFIG with the file's name before any binding
    # loaded (main.py, stacks/refusals.py); the values construct refuses it again on its own.
    git = airflow.dags.git
    ui = UiSpec(
        hostname=airflow.ui.hostname,
        certificate=airflow.ui.certificate,
        public=airflow.ui.public,
        allowed_cidrs=tuple(airflow.ui.allowed_cidrs),
    )
    task_namespaces = tuple(airflow.task_namespaces)
    if instance.team is not None:
        # A team's own Airflow: its DAG bundle and UI; everything else as the environment's. Its pod
        # operators run in the team's namespace only (launch rights from ``Teams``), never in the shared task namespaces.
        own = served_teams(config, instance)[0].airflow
        assert own.dags is not None and own.ui is not None  # TeamAirflow requires both when dedicated
        git = own.dags.git
        ui = UiSpec(
            hostname=own.ui.hostname,
            certificate=own.ui.certificate or airflow.ui.certificate,
            public=airflow.ui.public,
            allowed_cidrs=tuple(airflow.ui.allowed_cidrs),
        )
        task_namespaces = ()
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
        namespace=instance.namespace,
        executor=airflow.executor,
        image_repository=repository,
        image_tag=airflow.image.tag,
        airflow_version=airflow.image.version,
        components=components,
        task_resources=_resources(airflow.task_resources),
        identities=platform.identities,
        database=platform.database,
        log_store=platform.log_store,
        ingress=platform.ingress,
        ui=ui,
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
        statsd_prefix=instance.statsd_prefix,
        secrets_backend=platform.secrets_backend,
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
            namespace=instance.namespace,
            store=platform.secret_store,
            database=platform.database,
            git_repository=git.repository if git else None,
            git_credentials_secret=git.credentials_secret if git else None,
            create_admin_password=airflow.create_admin_user,
            sign_in_secret=airflow.ui.auth.client_secret if airflow.ui.auth else None,
            database_user=instance.database_user,
        ),
        quota=QuotaSpec(cpu=airflow.quota.cpu, memory=airflow.quota.memory, pods=airflow.quota.pods),
        task_namespaces=task_namespaces,
        launchers=tuple(platform.identities[name] for name in POD_LAUNCHERS),
        addons=tuple(addons),
        before=tuple(before),
        timeout_seconds=airflow.deploy_timeout_minutes * 60,
        # One pool per team, so one team's backlog cannot take every slot; one for backfills, so they
        # never starve scheduled runs (their pods go to the backfill nodes, see charts/pod-policies).
        pools={"backfill": airflow.backfill_pool_slots, **{f"team-{team.name}": team.pool_slots for team in served_teams(config, instance)}},
        hibernation=HibernationSchedule(sleep=airflow.hibernation.sleep, wake=airflow.hibernation.wake, time_zone=airflow.hibernation.time_zone)
        if airflow.hibernation.enabled
        else None,
    )

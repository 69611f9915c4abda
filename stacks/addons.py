"""The cluster add-ons of an environment: the cloud's own and the neutral ones, for the add-ons layer."""

from __future__ import annotations

from flightdeck.config import EnvironmentConfig, Tier
from platform_constructs.airflow.values import uses_celery
from platform_constructs.handles import CloudPlatform, HelmChart
from platform_constructs.kubernetes.addons import external_secrets, keda, kyverno, reloader

from .airflow import airflow_instances


def cluster_addons(config: EnvironmentConfig, platform: CloudPlatform) -> tuple[HelmChart, ...]:
    """Every add-on the cluster stack installs before Airflow, the teams and Datadog."""
    return (
        external_secrets(platform.secret_store.identity),
        # One admission controller is a single point of failure for every pod creation: three outside dev.
        kyverno(replicas=1 if config.tier is Tier.DEV else 3),
        # Celery workers scale with the queue (the Airflow chart's KEDA ScaledObject needs KEDA's CRDs).
        *((keda(),) if uses_celery(config.airflow.executor) else ()),
        # Rotated passwords and keys reach PgBouncer and Airflow's components by a restart.
        reloader([instance.namespace for instance in airflow_instances(config)]),
        *platform.cluster_addons,
    )

"""The existing-cluster side of the cloud seam: one stack (the cluster stack) and ExistingCluster props (the only place that translates them)."""

from __future__ import annotations

from cdktf import TerraformStack

from flightdeck.config import ExistingEnvironment
from platform_constructs.datadog.agent import NAMESPACE as DATADOG_NAMESPACE
from platform_constructs.existing.platform import ExistingCluster, ExistingClusterProps, ExistingDatabaseProps, ExistingLogsProps
from platform_constructs.handles import CloudPlatform
from platform_constructs.workloads import AIRFLOW_NAMESPACE

from .backends import environment_backend
from .ci import DeploySettings


def platform_props(config: ExistingEnvironment) -> ExistingClusterProps:
    existing = config.existing
    database = existing.database
    logs = existing.task_logs
    return ExistingClusterProps(
        kubeconfig_path=existing.kubeconfig_path,
        context=existing.context,
        secrets_namespace=existing.secrets_namespace,
        readable_secrets=tuple(config.synced_secret_names),
        store_namespaces=(AIRFLOW_NAMESPACE, *((DATADOG_NAMESPACE,) if config.datadog else ())),
        database=ExistingDatabaseProps(
            host=database.host,
            port=database.port,
            name=database.name,
            secret=database.secret,
            cidrs=tuple(database.cidrs),
            tls=database.tls,
        ),
        nodes_cidr=existing.nodes_cidr,
        pods_cidr=existing.pods_cidr,
        ingress_class=existing.ingress_class,
        task_logs=ExistingLogsProps(remote_base_log_folder=logs.remote_base_log_folder, connection_id=logs.connection_id)
        if logs is not None
        else None,
        teams=tuple(team.name for team in config.teams),
    )


def platform(stack: TerraformStack, config: ExistingEnvironment, deploy: DeploySettings | None) -> None:
    """No platform stack: the cluster, its network and its database belong to the cluster's owners."""
    return None


def cluster(stack: TerraformStack, config: ExistingEnvironment, platform: CloudPlatform | None) -> CloudPlatform:
    environment_backend(stack, config, "cluster")
    return ExistingCluster(stack, "platform", platform_props(config)).platform

"""Translate an existing-cluster environment's configuration into ExistingCluster props (the only place that does)."""

from __future__ import annotations

from constructs import Construct

from flightdeck.config import ExistingEnvironment, GcsState, LocalState, StateBackend
from platform_constructs.datadog.agent import NAMESPACE as DATADOG_NAMESPACE
from platform_constructs.existing.platform import ExistingCluster, ExistingClusterProps, ExistingDatabaseProps, ExistingLogsProps
from platform_constructs.handles import CloudPlatform
from platform_constructs.state import gcs_backend, local_backend, locked_s3_backend
from platform_constructs.workloads import AIRFLOW_NAMESPACE


def _state(scope: Construct, config: ExistingEnvironment) -> None:
    from cdktf import TerraformStack

    stack = TerraformStack.of(scope)
    state = config.state
    if isinstance(state, StateBackend):
        # The model requires the region for S3 here: there is no AWS account to take it from.
        locked_s3_backend(stack, bucket=state.bucket, key=config.state_key, region=state.region or "")
    elif isinstance(state, GcsState):
        gcs_backend(stack, bucket=state.bucket, prefix=config.state_folder)
    else:
        local_backend(stack, path=(state or LocalState(path=f"terraform-state/{config.name}.tfstate")).path)


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


def build(scope: Construct, config: ExistingEnvironment) -> CloudPlatform:
    _state(scope, config)
    return ExistingCluster(scope, "platform", platform_props(config)).platform

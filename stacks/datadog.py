"""Translate the ``datadog:`` section into the monitoring layer's props (cloud-neutral)."""

from __future__ import annotations

from constructs import Construct

from flightdeck.config import AboveThreshold, BelowThreshold, Datadog, EnvironmentConfig
from platform_constructs.airflow.release import AirflowRelease
from platform_constructs.datadog.agent import DatadogAgent, DatadogAgentProps
from platform_constructs.datadog.mapper import INSTANCE_TAG
from platform_constructs.datadog.monitoring import DatadogMonitoring, DatadogMonitoringProps
from platform_constructs.datadog.monitors import MonitorSettings, Threshold
from platform_constructs.datadog.scope import SERVICE, MonitoringScope
from platform_constructs.handles import CloudPlatform
from platform_constructs.kubernetes.addons import ClusterAddons

from .airflow import airflow_instances


def datadog_provider(stack: Construct, api_url: str) -> None:
    """The Datadog provider, for the site's API (``https://api.datadoghq.eu/``).

    It takes its keys from the ``datadog_api_key`` / ``datadog_app_key`` Terraform variables when they
    are set (``TF_VAR_datadog_api_key``) and otherwise from ``DD_API_KEY`` / ``DD_APP_KEY`` in the
    environment: no key is ever written into the synthesized JSON.
    """
    from cdktf import TerraformVariable
    from cdktf_cdktf_provider_datadog.provider import DatadogProvider

    def key(name: str, env_name: str) -> str:
        variable = TerraformVariable(
            stack,
            name,
            type="string",
            default="",
            sensitive=True,
            description=f"Datadog {name.split('_')[1]} key; empty: the provider reads {env_name}",
        )
        # The name users set (TF_VAR_datadog_api_key), not a generated one.
        variable.override_logical_id(name)
        # null, not "", lets the provider fall back to its environment variable.
        return f'${{var.{name} == "" ? null : var.{name}}}'

    DatadogProvider(
        stack,
        "datadog-provider",
        api_url=api_url,
        api_key=key("datadog_api_key", "DD_API_KEY"),
        app_key=key("datadog_app_key", "DD_APP_KEY"),
    )


def _threshold(threshold: AboveThreshold | BelowThreshold) -> Threshold:
    return Threshold(critical=threshold.critical, warning=threshold.warning)


def monitor_settings(datadog: Datadog) -> MonitorSettings:
    m = datadog.monitors
    return MonitorSettings(
        notify=tuple(m.notify),
        priority=m.priority,
        renotify_minutes=m.renotify_minutes,
        scheduler_heartbeat_minutes=m.scheduler_heartbeat_minutes,
        task_failure_percent=_threshold(m.task_failure_percent),
        import_errors=_threshold(m.import_errors),
        queued_tasks=_threshold(m.queued_tasks),
        pending_pod_minutes=m.pending_pod_minutes,
        database_cpu_percent=_threshold(m.database_cpu_percent),
        database_free_storage_gib=_threshold(m.database_free_storage_gib),
        database_connections=_threshold(m.database_connections),
        provisioning_failures=_threshold(m.provisioning_failures),
    )


def build(
    scope: Construct,
    config: EnvironmentConfig,
    datadog: Datadog,
    platform: CloudPlatform,
    airflow: AirflowRelease,
    addons: ClusterAddons,
) -> DatadogMonitoring:
    DatadogAgent(
        scope,
        "datadog-agent",
        DatadogAgentProps(
            cluster=platform.cluster,
            network=platform.network,
            secret_store=platform.secret_store,
            site=datadog.site,
            api_key_secret=datadog.api_key_secret,
            tags={**config.tags, "service": SERVICE},
            max_nodes=config.max_nodes,
            cluster_agent_replicas=datadog.cluster_agent_replicas,
            statsd_clients=tuple(instance.namespace for instance in airflow_instances(config)),
            statsd_prefixes={
                instance.statsd_prefix: {INSTANCE_TAG: instance.tag, **({"team": instance.team} if instance.team else {})}
                for instance in airflow_instances(config)
            },
            scrape_targets=tuple(addons.scraped),
            depends_on=tuple(addons.all),
        ),
    )
    datadog_provider(scope, datadog.api_url)
    return DatadogMonitoring(
        scope,
        "datadog",
        DatadogMonitoringProps(
            app_url=datadog.app_url,
            scope=MonitoringScope(
                env=config.name,
                team=config.owner,
                namespaces=(
                    *(instance.namespace for instance in airflow_instances(config)),
                    *(ns.name for ns in airflow.task_namespaces),
                    *(t.namespace for t in config.teams),
                ),
                database=platform.database.metrics,
                provisioning_failures=platform.provisioning_failures,
            ),
            monitors=monitor_settings(datadog),
        ),
    )

"""EnvironmentStack: everything one environment needs, as one Terraform stack.

``cdktf deploy prod`` deploys the whole prod environment; ``cdktf diff prod`` previews it.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from cdktf import Aspects, TerraformOutput, TerraformStack
from constructs import Construct

from flightdeck.config import EnvironmentConfig
from platform_constructs.airflow.release import AirflowRelease
from platform_constructs.handles import CloudPlatform
from platform_constructs.kubernetes.providers import ClusterProviders, ClusterProvidersProps
from platform_constructs.kubernetes.tenancy import Teams
from platform_constructs.tagging import RequireTags

from .airflow import release_props
from .teams import teams_props

# The cloud seam: the one place that maps ``cloud:`` to an implementation. Modules are imported
# only when an environment uses them, so AWS-only runs never load other clouds' bindings.
CLOUD_BUILDERS = {"aws": "stacks.aws", "gcp": "stacks.gcp", "existing": "stacks.existing"}


def cloud_builder(cloud: str) -> Callable[[Construct, Any], CloudPlatform]:
    """The ``build(scope, config)`` of one cloud; it takes that cloud's configuration model."""
    return importlib.import_module(CLOUD_BUILDERS[cloud]).build  # type: ignore[no-any-return]


class EnvironmentStack(TerraformStack):
    def __init__(self, scope: Construct, config: EnvironmentConfig) -> None:
        super().__init__(scope, config.name)
        self.config = config
        self.tag_check = RequireTags(self)
        Aspects.of(self).add(self.tag_check)
        self.platform = cloud_builder(config.cloud)(self, config)
        # Everything above the cloud seam is the same code on every cloud.
        ClusterProviders(self, "cluster-providers", ClusterProvidersProps(cluster=self.platform.cluster))
        datadog = config.datadog
        # Monitoring is optional in dev only (see EnvironmentConfig); its bindings load only when used.
        metrics = None
        if datadog is not None:
            from platform_constructs.datadog.agent import statsd_sink

            metrics = statsd_sink()
        self.airflow = AirflowRelease(self, "airflow", release_props(config, self.platform, metrics))
        self.teams = Teams(self, "teams", teams_props(config, self.platform))
        self._outputs(self.platform)
        if datadog is not None:
            from .datadog import build as build_monitoring

            monitoring = build_monitoring(self, config, datadog, self.platform, self.airflow)
            TerraformOutput(
                self,
                "datadog_dashboards",
                value=monitoring.dashboard_urls,
                description="Datadog dashboards of this environment (Airflow overview, Kubernetes footprint, database)",
            )

    def _outputs(self, platform: CloudPlatform) -> None:
        TerraformOutput(self, "cluster_name", value=platform.cluster.name, description="Kubernetes cluster name")
        TerraformOutput(
            self,
            "kubeconfig_command",
            value=platform.cluster.connect_command,
            description="Run this to point kubectl at the cluster",
        )
        TerraformOutput(self, "database_endpoint", value=platform.database.host, description="Metadata database host")
        if platform.log_store is not None:
            TerraformOutput(self, "log_bucket", value=platform.log_store.bucket, description="Bucket holding Airflow task logs")
        if platform.image_repository is not None:
            TerraformOutput(
                self, "image_repository_url", value=platform.image_repository.url, description="Push the Airflow image here"
            )

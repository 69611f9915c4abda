"""An environment's stacks: the platform stack and the cluster stack, with a one-way dependency.

* ``<env>_platform``: the cloud. Network, cluster and node capacity, identities, database, storage,
  image repository and the deploy runner inside the network. Applied from anywhere that reaches
  the cloud's API (a GitHub-hosted runner, a workstation).
* ``<env>_cluster``: what runs on the cluster. Namespaces, guardrails, add-ons, Airflow, teams,
  Datadog. It takes every value it needs from the platform stack's outputs (cdktf turns each
  cross-stack reference into an output there and a ``terraform_remote_state`` lookup here), and
  is applied from where the cluster's API is reachable (the runner, a bastion, a VPN).

``cdktf deploy 'prod_*'`` (or ``make deploy ENV=prod``) deploys both in order: an environment name
has no ``_``, so the glob cannot match another environment's stacks. ``cloud: existing`` has only
the cluster stack: its cluster and everything around it belong to its owners.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from types import ModuleType

from cdktf import Aspects, TerraformOutput, TerraformStack
from constructs import Construct

from flightdeck.config import EnvironmentConfig
from platform_constructs.airflow.database_roles import DatabaseRoles
from platform_constructs.airflow.release import AirflowRelease
from platform_constructs.handles import CloudPlatform
from platform_constructs.kubernetes.addons import ClusterAddons, ClusterAddonsProps
from platform_constructs.kubernetes.schema_record import SchemaRecord, SchemaRecordProps
from platform_constructs.kubernetes.tenancy import PodPolicies, Teams
from platform_constructs.tagging import RequireTags
from platform_constructs.workloads import SHARED_AIRFLOW

from .addons import cluster_addons
from .airflow import airflow_instances, database_roles_props, release_props
from .ci import DeploySettings
from .providers import ClusterProviders, ClusterProvidersProps
from .teams import pod_policies_props, teams_props

# The cloud seam: the one place that maps ``cloud:`` to an implementation. Modules are imported
# only when an environment uses them, so AWS-only runs never load other clouds' bindings. Each
# module has ``platform(stack, config, deploy) -> CloudPlatform | None`` (None: no platform stack)
# and ``cluster(stack, config, platform) -> CloudPlatform`` (the handles the cluster stack uses).
CLOUD_SEAMS = {"aws": "stacks.aws", "gcp": "stacks.gcp", "existing": "stacks.existing"}


def cloud_seam(cloud: str) -> ModuleType:
    return importlib.import_module(CLOUD_SEAMS[cloud])


class PlatformStack(TerraformStack):
    """One environment's cloud resources (``prod_platform``)."""

    def __init__(self, scope: Construct, config: EnvironmentConfig, deploy: DeploySettings | None) -> None:
        super().__init__(scope, config.stack_name("platform"))
        self.config = config
        self.tag_check = RequireTags(self)
        Aspects.of(self).add(self.tag_check)
        platform = cloud_seam(config.cloud).platform(self, config, deploy)
        if platform is None:
            raise ValueError(f"{config.source}: cloud {config.cloud} has no platform stack")
        self.platform: CloudPlatform = platform
        platform_outputs(self, platform)


def platform_outputs(stack: TerraformStack, platform: CloudPlatform) -> None:
    """Where things are, for people (``cdktf output``): in the platform stack, or the only stack."""
    TerraformOutput(stack, "cluster_name", value=platform.cluster.name, description="Kubernetes cluster name")
    TerraformOutput(
        stack,
        "kubeconfig_command",
        value=platform.cluster.connect_command,
        description="Run this to point kubectl at the cluster",
    )
    TerraformOutput(stack, "database_endpoint", value=platform.database.host, description="Metadata database host")
    if platform.log_store is not None:
        TerraformOutput(stack, "log_bucket", value=platform.log_store.bucket, description="Bucket holding Airflow task logs")
    if platform.image_repository is not None:
        TerraformOutput(stack, "image_repository_url", value=platform.image_repository.url, description="Push the Airflow image here")


class ClusterStack(TerraformStack):
    """What runs on one environment's cluster (``prod_cluster``), above the cloud seam: the same code on every cloud."""

    def __init__(self, scope: Construct, config: EnvironmentConfig, platform_stack: PlatformStack | None) -> None:
        super().__init__(scope, config.stack_name("cluster"))
        self.config = config
        self.tag_check = RequireTags(self)
        Aspects.of(self).add(self.tag_check)
        if platform_stack is not None:
            self.add_dependency(platform_stack)
        platform = cloud_seam(config.cloud).cluster(self, config, platform_stack.platform if platform_stack else None)
        self.platform: CloudPlatform = platform
        if platform_stack is None:
            platform_outputs(self, platform)
        ClusterProviders(self, "cluster-providers", ClusterProvidersProps(cluster=platform.cluster))
        datadog = config.datadog
        # Monitoring is optional in dev only (see EnvironmentConfig); its bindings load only when used.
        metrics = None
        if datadog is not None:
            from platform_constructs.datadog.agent import statsd_sink

            metrics = statsd_sink()
        # The add-ons layer first: everything above plans against controllers that exist.
        self.addons = ClusterAddons(
            self,
            "addons",
            ClusterAddonsProps(addons=cluster_addons(config, platform), depends_on=tuple(platform.cluster.ready), metrics=metrics),
        )
        # Each Airflow's own database role (and a team's own Airflow's database), before any migration runs.
        roles = database_roles_props(config, platform, [*self.addons.all, *platform.cluster.ready])
        before = [DatabaseRoles(self, "database-roles", roles).release] if roles is not None else []
        # The shared Airflow (construct id ``airflow``), then each team's own (``airflow-<team>``): one construct for all.
        self.airflows = {
            instance.namespace: AirflowRelease(
                self,
                instance.namespace,
                release_props(config, platform.for_airflow(instance), instance, metrics, self.addons.all, before),
            )
            for instance in airflow_instances(config)
        }
        self.airflow = self.airflows[SHARED_AIRFLOW.namespace]
        version = config.airflow.image.version
        if version is not None and not platform.database.keeps_airflow_version:
            # Where no cloud keeps it: a record in the cluster, written once the release (its migration) succeeded.
            database = platform.database
            SchemaRecord(
                self,
                "schema-record",
                SchemaRecordProps(
                    namespace=SHARED_AIRFLOW.namespace,
                    database=f"{database.host}/{database.database_name}",
                    airflow_version=version,
                    after=[self.airflow.release],
                ),
            )
        self.teams = Teams(self, "teams", teams_props(config, platform))
        self.policies = PodPolicies(
            self,
            "pod-policies",
            pod_policies_props(
                config,
                [
                    self.addons["kyverno"],
                    *(ns.namespace for airflow in self.airflows.values() for ns in airflow.task_namespaces),
                    *(ns.namespace for ns in self.teams.namespaces.values()),
                ],
                [airflow.task_rule for airflow in self.airflows.values()],
            ),
        )
        TerraformOutput(
            self,
            "airflow_url",
            value=f"https://{config.airflow.ui.hostname}",
            description="Airflow's UI (a DNS record for the hostname must point at the load balancer; see the README)",
        )
        if config.dedicated_teams:
            TerraformOutput(
                self,
                "team_airflow_urls",
                value={team.name: f"https://{team.airflow.ui.hostname}" for team in config.dedicated_teams if team.airflow.ui},
                description="The UIs of the teams' own Airflows, by team",
            )
        if datadog is not None:
            from .datadog import build as build_monitoring

            monitoring = build_monitoring(self, config, datadog, platform, self.airflow, self.addons)
            TerraformOutput(
                self,
                "datadog_dashboards",
                value=monitoring.dashboard_urls,
                description="Datadog dashboards of this environment (Airflow overview, Kubernetes footprint, database)",
            )


@dataclass(frozen=True)
class EnvironmentStacks:
    config: EnvironmentConfig
    platform: PlatformStack | None
    cluster: ClusterStack

    @property
    def stacks(self) -> tuple[PlatformStack | ClusterStack, ...]:
        return (*([self.platform] if self.platform else []), self.cluster)


def environment_stacks(scope: Construct, config: EnvironmentConfig, deploy: DeploySettings | None = None) -> EnvironmentStacks:
    """The stacks of one environment, in deploy order (see the module docstring)."""
    platform = PlatformStack(scope, config, deploy) if "platform" in config.stack_parts else None
    return EnvironmentStacks(config=config, platform=platform, cluster=ClusterStack(scope, config, platform))

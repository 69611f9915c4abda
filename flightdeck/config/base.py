"""``EnvironmentBase``: what every environment has, whichever cloud it runs on (owner, Airflow,
monitoring, teams, task logs, the image repository), and the rules across them."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, model_validator

from .airflow import MUTABLE_TAGS, PLATFORM_NAMESPACES, RESERVED_AIRFLOW_TEAMS, Airflow
from .cluster import NodeGroups
from .monitoring import Datadog
from .primitives import BucketName, CostCenter, Model, Slug, Tier, standard_tags
from .teams import Team


class TaskLogs(Model):
    bucket_name: BucketName | None = None
    """Defaults to ``<project>-<env>-airflow-logs-<account id>`` (bucket names are global)."""
    expire_after_days: int = Field(ge=1, le=3650)


class ImageRepository(Model):
    name: str | None = Field(default=None, pattern=r"^[a-z0-9]+([._/-][a-z0-9]+)*$")
    """Defaults to ``<project>-<env>/airflow``."""
    keep_untagged_days: int = Field(default=14, ge=1, le=365)


AWS_INSTANCE_TYPE = re.compile(r"^[a-z][a-z0-9-]*\.[a-z0-9]+$")
GCP_MACHINE_TYPE = re.compile(r"^[a-z][a-z0-9]*-[a-z0-9-]+$")
ACM_CERTIFICATE = re.compile(r"^arn:aws(-us-gov)?:acm:[a-z0-9-]+:\d{12}:certificate/[0-9a-f-]+$")
RESOURCE_NAME = re.compile(r"^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$")
SECRET_MANAGER_ID = re.compile(r"^[A-Za-z0-9_-]{1,255}$")
KUBERNETES_NAME = re.compile(r"^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$")


StackPart = Literal["platform", "cluster"]
"""An environment's stacks: ``platform`` holds the cloud (network, cluster, identities, database,
storage), ``cluster`` what runs on the cluster (guardrails, add-ons, Airflow, teams, monitoring)."""


class EnvironmentBase(Model):
    """What every environment has, whichever cloud it runs on: who owns it, Airflow, monitoring, teams."""

    name: Slug
    """Taken from the file name (``prod.yaml`` → ``prod``); it is also the stack name."""
    source: str
    """The file this configuration came from, for error messages."""
    tier: Tier
    project: Slug = "flightdeck"
    """Prefix of every resource name."""
    owner: Slug
    """The team that owns and pays for the environment (the ``team`` tag)."""
    cost_center: CostCenter
    airflow: Airflow
    datadog: Datadog | None = None
    """Monitoring; required in qa and prod, optional in dev (a laptop cluster has no Datadog account)."""
    teams: list[Team] = []
    """Tenants of this Airflow: each gets a namespace, a cloud identity, a quota and a pool."""

    @model_validator(mode="after")
    def _teams(self) -> EnvironmentBase:
        seen: set[str] = set()
        hostnames = {self.airflow.ui.hostname: "airflow.ui.hostname"}
        for index, team in enumerate(self.teams):
            if team.name in seen:
                raise ValueError(f"teams[{index}].name '{team.name}' is declared twice")
            seen.add(team.name)
            if not team.airflow.dedicated:
                continue
            where = f"teams[{index}].airflow"
            if team.name in RESERVED_AIRFLOW_TEAMS:
                raise ValueError(
                    f"{where}: a team named '{team.name}' cannot have its own Airflow: its folder in the secret store "
                    f"would fall under the shared Airflow's {team.name} (where Connections and Variables are kept); rename the team"
                )
            namespace = team.airflow_namespace
            if namespace in PLATFORM_NAMESPACES or namespace in self.airflow.task_namespaces:
                what = PLATFORM_NAMESPACES.get(namespace, "one of airflow.task_namespaces")
                raise ValueError(f"{where}: its namespace would be '{namespace}', which is {what}; rename the team")
            ui = team.airflow.ui
            assert ui is not None  # TeamAirflow requires it when dedicated
            if ui.hostname in hostnames:
                raise ValueError(f"{where}.ui.hostname: '{ui.hostname}' is already {hostnames[ui.hostname]}; each Airflow has its own")
            hostnames[ui.hostname] = f"{where}.ui.hostname"
        return self

    @property
    def dedicated_teams(self) -> list[Team]:
        """The teams with an Airflow of their own, in file order."""
        return [team for team in self.teams if team.airflow.dedicated]

    def ui_hostnames(self) -> list[tuple[str, str]]:
        """Every UI hostname the file names, with its field: the shared UI's and each dedicated one's."""
        hostnames = [("airflow.ui.hostname", self.airflow.ui.hostname)]
        for index, team in enumerate(self.teams):
            if team.airflow.ui is not None:
                hostnames.append((f"teams[{index}].airflow.ui.hostname", team.airflow.ui.hostname))
        return hostnames

    @model_validator(mode="after")
    def _dns_zone(self) -> EnvironmentBase:
        zone = self.airflow.ui.dns_zone
        if zone is None:
            return self
        for field, hostname in self.ui_hostnames():
            if not hostname.endswith(f".{zone.domain}"):
                raise ValueError(
                    f"{field}: '{hostname}' is not under airflow.ui.dns_zone.domain '{zone.domain}', so its record cannot be "
                    "written there; use a name in that domain or name the zone that holds it"
                )
        return self

    def ui_certificates(self) -> list[tuple[str, str]]:
        """Every TLS certificate the file names, with its field: the shared UI's and each dedicated one's own."""
        certificates = [("airflow.ui.certificate", self.airflow.ui.certificate)]
        for index, team in enumerate(self.teams):
            ui = team.airflow.ui
            if ui is not None and ui.certificate is not None:
                certificates.append((f"teams[{index}].airflow.ui.certificate", ui.certificate))
        return certificates

    @model_validator(mode="after")
    def _team_grants(self) -> EnvironmentBase:
        own_buckets = self.flightdeck_buckets
        own_secrets = dict((secret, field) for field, secret in self._secret_fields() if ".permissions." not in field)
        for i, team in enumerate(self.teams):
            for j, grant in enumerate(team.permissions.buckets):
                if grant.bucket in own_buckets or grant.bucket.startswith(f"{self.project}-tfstate-"):
                    what = own_buckets.get(grant.bucket, "Terraform state")
                    raise ValueError(
                        f"teams[{i}].permissions.buckets[{j}].bucket: '{grant.bucket}' is Flightdeck's own {what} bucket; no team may be granted it"
                    )
            for j, secret in enumerate(team.permissions.secrets):
                if secret in own_secrets:
                    raise ValueError(
                        f"teams[{i}].permissions.secrets[{j}]: '{secret}' is the platform's secret ({own_secrets[secret]}); no team may read it"
                    )
                if secret.startswith((f"{self.resource_prefix}/", f"{self.resource_prefix}-airflow-")):
                    raise ValueError(
                        f"teams[{i}].permissions.secrets[{j}]: '{secret}' is under {self.resource_prefix}'s own secrets "
                        "(where Airflow's Fernet, API and JWT keys are kept); no team may read it"
                    )
        return self

    @property
    def flightdeck_buckets(self) -> dict[str, str]:
        """Buckets Flightdeck keeps its own data in, with what they hold (no team may be granted them)."""
        return {}

    @model_validator(mode="after")
    def _availability(self) -> EnvironmentBase:
        if self.tier is not Tier.DEV and self.datadog is None:
            raise ValueError(f"datadog is not set; a {self.tier} environment must be monitored")
        if self.tier is not Tier.DEV and self.airflow.create_admin_user:
            raise ValueError("airflow.create_admin_user is true; only dev may have a default admin user")
        if self.tier is not Tier.DEV and self.airflow.ui.auth is None:
            raise ValueError(
                f"airflow.ui.auth is not set, so nobody could sign in to this {self.tier} environment's UI (only dev has "
                "a generated admin user); configure single sign-on (provider, client_id, client_secret, groups)"
            )
        if self.airflow.create_admin_user and self.airflow.ui.internet_facing:
            raise ValueError(
                "airflow.ui faces the internet and airflow.create_admin_user is true; a generated admin login must "
                "not be reachable from everywhere (narrow airflow.ui.allowed_cidrs or turn the user off)"
            )
        tag = self.airflow.image.tag
        if self.tier is not Tier.DEV and tag.lower() in MUTABLE_TAGS:
            raise ValueError(
                f"airflow.image.tag is '{tag}', a tag that moves; a {self.tier} environment runs a pinned version "
                "(3.2.2, or your image's release or commit tag) so every deploy is reproducible"
            )
        if self.tier is not Tier.DEV and self.airflow.image.version is None:
            raise ValueError(
                f"airflow.image.tag '{tag}' does not start with an Airflow version; set airflow.image.airflow_version "
                f"(3.2.2) so a {self.tier} deploy can refuse to go below the version its database was migrated to"
            )
        if self.tier is Tier.PROD:
            for name in ("scheduler", "api_server", "triggerer"):
                replicas = getattr(self.airflow.components, name).replicas
                if replicas < 2:
                    raise ValueError(f"airflow.components.{name}.replicas is {replicas}; prod runs at least 2")
        return self

    @property
    def resource_prefix(self) -> str:
        """``flightdeck-prod``: the start of every resource name in this environment."""
        return f"{self.project}-{self.name}"

    @property
    def cloud_scope(self) -> str | None:
        """The account or project whose names this environment's deployer manages; None: it manages none."""
        return None

    @property
    def synced_secret_names(self) -> list[str]:
        """Cloud secrets the secret sync may read besides the database's: DAG repository, Datadog API key."""
        git = self.airflow.dags.git
        names = [git.credentials_secret] if git and git.credentials_secret else []
        if self.datadog:
            names.append(self.datadog.api_key_secret)
        if self.airflow.ui.auth:
            names.append(self.airflow.ui.auth.client_secret)
        for team in self.dedicated_teams:
            team_git = team.airflow.dags.git if team.airflow.dags else None
            if team_git and team_git.credentials_secret and team_git.credentials_secret not in names:
                names.append(team_git.credentials_secret)
        return names

    def team_tags(self, team: Team) -> dict[str, str]:
        """Tags of a team's own resources: the environment's, with the team and its cost center."""
        return {**self.tags, "team": team.name, "cost-center": team.cost_center}

    @property
    def tags(self) -> dict[str, str]:
        """Tags (AWS) or labels (GCP) every taggable resource carries."""
        return standard_tags(self.name, self.owner, self.cost_center)

    @property
    def state_prefix(self) -> str:
        """Where this environment's state lives in ``state.bucket`` (``flightdeck/prod/``); its CI roles reach only this."""
        return f"{self.project}/{self.name}/"

    def state_key(self, part: StackPart) -> str:
        """The S3 key of one of the environment's stacks (``flightdeck/prod/cluster/terraform.tfstate``)."""
        return f"{self.state_prefix}{part}/terraform.tfstate"

    def state_folder(self, part: StackPart) -> str:
        """The GCS backend's ``prefix`` of one of the environment's stacks (``flightdeck/prod/cluster``; GCS adds ``/default.tfstate``)."""
        return f"{self.state_prefix}{part}"

    def stack_name(self, part: StackPart) -> str:
        """``prod_platform``, ``prod_cluster``: an environment name has no ``_``, so ``prod_*`` matches only prod's stacks."""
        return f"{self.name}_{part}"

    @property
    def stack_parts(self) -> tuple[StackPart, ...]:
        """The stacks this environment has, in deploy order."""
        return ("platform", "cluster")

    def _secret_fields(self) -> list[tuple[str, str]]:
        """Every secret name the file gives, with its field (each cloud names secrets its own way)."""
        git = self.airflow.dags.git
        fields = [("airflow.dags.git.credentials_secret", git.credentials_secret)] if git and git.credentials_secret else []
        if self.datadog:
            fields.append(("datadog.api_key_secret", self.datadog.api_key_secret))
        if self.airflow.ui.auth:
            fields.append(("airflow.ui.auth.client_secret", self.airflow.ui.auth.client_secret))
        for i, team in enumerate(self.teams):
            team_git = team.airflow.dags.git if team.airflow.dags else None
            if team_git and team_git.credentials_secret:
                fields.append((f"teams[{i}].airflow.dags.git.credentials_secret", team_git.credentials_secret))
            fields += [(f"teams[{i}].permissions.secrets[{j}]", name) for j, name in enumerate(team.permissions.secrets)]
        return fields

    def _check_node_groups(self, groups: NodeGroups, pattern: re.Pattern[str], example: str, single: bool) -> None:
        """Every node group's machine types have this cloud's form (one type only where ``single``)."""
        named = [("cluster.node_groups.system", groups.system), ("cluster.node_groups.workers", groups.workers)]
        named += [(f"teams[{i}].dedicated_nodes", t.dedicated_nodes) for i, t in enumerate(self.teams) if t.dedicated_nodes]
        for where, group in named:
            for kind in group.instance_types:
                if not pattern.match(kind):
                    raise ValueError(f"{where}.instance_types: '{kind}' is not a machine type of this cloud (for example {example})")
            if single and len(group.instance_types) != 1:
                raise ValueError(f"{where}.instance_types lists {len(group.instance_types)} types; a GKE node pool has exactly one")


def _node_total(groups: NodeGroups, teams: list[Team]) -> int:
    """The most nodes a cluster with these groups can grow to (sizes the per-node monitoring agent's quota)."""
    return groups.system.max_size + groups.workers.max_size + sum(t.dedicated_nodes.max_size for t in teams if t.dedicated_nodes)

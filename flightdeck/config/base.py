"""What every environment has, whichever cloud it runs on: nodes, Airflow, teams, the shared rules and ``EnvironmentBase``."""

from __future__ import annotations

import ipaddress
import re
from typing import Annotated, Any, Literal

from pydantic import Field, model_validator

from .monitoring import Datadog
from .primitives import BucketName, Cidr, CostCenter, Model, SecretName, Slug, Tier, standard_tags


class NodeGroup(Model):
    instance_types: list[Annotated[str, Field(pattern=r"^[a-z][a-z0-9.-]*[a-z0-9]$")]] = Field(min_length=1)
    """AWS instance types (``m6i.large``; several let the group use whichever has capacity) or one GCP
    machine type (``e2-standard-4``)."""
    min_size: int = Field(ge=0, le=200)
    desired_size: int = Field(ge=0, le=200)
    max_size: int = Field(ge=1, le=200)
    disk_size_gib: int = Field(default=50, ge=20, le=2000)
    capacity_type: Literal["ON_DEMAND", "SPOT"] = "ON_DEMAND"

    @model_validator(mode="after")
    def _sizes_in_order(self) -> NodeGroup:
        if self.min_size > self.max_size:
            raise ValueError(f"min_size {self.min_size} is larger than max_size {self.max_size}")
        if not self.min_size <= self.desired_size <= self.max_size:
            raise ValueError(
                f"desired_size {self.desired_size} must lie between min_size {self.min_size} and max_size {self.max_size}"
            )
        return self


class NodeGroups(Model):
    system: NodeGroup
    """Runs Airflow's own components and cluster add-ons."""
    workers: NodeGroup
    """Tainted so that only task pods (which tolerate the taint) land here."""


class SystemNodeGroup(Model):
    system: NodeGroup
    """The managed node group for Airflow's own components and the cluster add-ons (tainted: only
    what tolerates it runs there). Task capacity comes from ``cluster.node_pools`` (Karpenter)."""

    @model_validator(mode="before")
    @classmethod
    def _no_workers_group(cls, data: Any) -> Any:
        if isinstance(data, dict) and "workers" in data:
            raise ValueError(
                "workers is not a node group on EKS: task capacity is a Karpenter node pool; set cluster.node_pools.workers "
                "(instance_families, capacity, cpu_limit, memory_limit_gib) instead"
            )
        return data


def _check_public_endpoint_tier(tier: Tier, public: bool, reached: str) -> None:
    """Only dev may open the Kubernetes API's address to the internet; qa and prod are ``reached`` otherwise."""
    if public and tier is not Tier.DEV:
        raise ValueError(f"cluster.endpoint_public_access is true; only dev may open the API endpoint, a {tier} cluster is {reached}")


INTERNET_WIDE_ADDRESSES = 2**24
"""Allow-lists that together admit more public addresses than a /8 are treated as the whole internet."""


def internet_wide(cidrs: list[str]) -> int:
    """How many addresses ``cidrs`` admit together if that is internet-wide (public ranges wider than a /8), else 0.

    Ranges are merged first, so two ``/1`` halves count as the ``0.0.0.0/0`` they add up to.
    """
    networks = ipaddress.collapse_addresses(ipaddress.IPv4Network(c) for c in cidrs)
    public = sum(n.num_addresses for n in networks if not n.is_private)
    return public if public > INTERNET_WIDE_ADDRESSES else 0


def _check_api_allow_list(public: bool, cidrs: list[str]) -> None:
    """A public API endpoint needs an allow-list, and the allow-list is never the whole internet."""
    if public and not cidrs:
        raise ValueError("endpoint_public_access is true but public_access_cidrs is empty; list the ranges allowed to reach the API")
    wide = internet_wide(cidrs)
    if wide:
        raise ValueError(
            f"public_access_cidrs admit {wide:,} addresses together, the whole internet (public ranges wider than "
            "a /8 count as that); list the office or VPN ranges instead"
        )


SMALL_SIZES = ("nano", "micro", "small", "medium")
"""Machine sizes with less than 8 GiB of memory: too small for the system pool outside dev."""


def _aws_too_small(kind: str) -> str | None:
    """Why an EC2 type cannot carry the system pool outside dev, or None."""
    family, _, size = kind.partition(".")
    if size in SMALL_SIZES:
        return f"a {size} instance has too little memory for Airflow's control components and the cluster add-ons"
    if family.startswith("t"):
        return "burstable instances run out of CPU credits under the steady load of Airflow's control components"
    return None


def _gcp_too_small(kind: str) -> str | None:
    """Why a GCE machine type cannot carry the system pool outside dev, or None."""
    if kind in ("f1-micro", "g1-small") or kind.endswith(tuple(f"-{size}" for size in SMALL_SIZES)):
        return "a shared-core machine has too little CPU and memory for Airflow's control components and the cluster add-ons"
    return None


def _check_system_pool(tier: Tier, group: NodeGroup, where: str, too_small: Any) -> None:
    """Outside dev the system pool survives the loss of a node and is made of machines that can carry it."""
    if tier is Tier.DEV:
        return
    if group.min_size < 2:
        raise ValueError(f"{where}.min_size is {group.min_size}; a {tier} system pool keeps at least 2 nodes, so losing one does not stop Airflow")
    for kind in group.instance_types:
        why = too_small(kind)
        if why:
            raise ValueError(f"{where}.instance_types: '{kind}' cannot carry a {tier} system pool: {why}")


class TaskLogs(Model):
    bucket_name: BucketName | None = None
    """Defaults to ``<project>-<env>-airflow-logs-<account id>`` (bucket names are global)."""
    expire_after_days: int = Field(ge=1, le=3650)


class ImageRepository(Model):
    name: str | None = Field(default=None, pattern=r"^[a-z0-9]+([._/-][a-z0-9]+)*$")
    """Defaults to ``<project>-<env>/airflow``."""
    keep_untagged_days: int = Field(default=14, ge=1, le=365)


KubernetesName = Annotated[str, Field(pattern=r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")]
CpuQuantity = Annotated[str, Field(pattern=r"^\d+(\.\d+)?m?$")]
MemoryQuantity = Annotated[str, Field(pattern=r"^\d+(Mi|Gi)$")]

EXECUTORS = ("KubernetesExecutor", "CeleryExecutor", "CeleryExecutor,KubernetesExecutor")


class Resources(Model):
    cpu: CpuQuantity
    """Requested CPU (``500m``, ``2``); no CPU limit, so pods use idle CPU instead of being throttled."""
    memory: MemoryQuantity
    """Requested and limited memory (``1Gi``): a pod that exceeds it is restarted rather than starving its node."""


class Component(Model):
    replicas: int = Field(ge=1, le=20)
    resources: Resources


class Components(Model):
    scheduler: Component
    api_server: Component
    triggerer: Component
    dag_processor: Component
    pgbouncer: Component


MUTABLE_TAGS = frozenset({"latest", "stable", "edge", "nightly", "main", "master"})
"""Image tags that point at a different image tomorrow: refused outside dev."""


AIRFLOW_RELEASE_TAG = re.compile(r"^(?P<version>\d+\.\d+\.\d+)(?![0-9])")
"""A tag that starts with the Airflow version (Apache's ``3.2.2``, ``3.2.2-python3.12``; a build ``3.2.3-build.41``)."""
OLDEST_AIRFLOW = (3, 1, 0)
"""The oldest Airflow the pinned chart supports (its ``airflowVersion``)."""


class AirflowImage(Model):
    repository: str = Field(default="apache/airflow", pattern=r"^(platform|[a-z0-9.-]+(:\d+)?(/[a-z0-9._-]+)+|[a-z0-9._-]+/[a-z0-9._-]+)$")
    """``apache/airflow`` (default), any image name, or ``platform``: this environment's own image repository."""
    tag: str = Field(default="3.2.2", pattern=r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
    airflow_version: str | None = Field(default=None, pattern=r"^\d+\.\d+\.\d+$")
    """The Airflow version inside the image; None: read from the tag when it starts with one (``3.2.2-python3.12``).
    The chart is told it, and a deploy refuses to go below the version the database was migrated to
    (see the README, Upgrading Airflow). Required outside dev when the tag does not start with a version."""

    @model_validator(mode="after")
    def _supported(self) -> AirflowImage:
        if self.version is not None and version_tuple(self.version) < OLDEST_AIRFLOW:
            raise ValueError(
                f"Airflow {self.version} is older than {'.'.join(map(str, OLDEST_AIRFLOW))}, the oldest the pinned chart supports"
            )
        return self

    @property
    def version(self) -> str | None:
        """The image's Airflow version (``3.2.2``), or None where neither the file nor the tag says it."""
        if self.airflow_version is not None:
            return self.airflow_version
        match = AIRFLOW_RELEASE_TAG.match(self.tag)
        return match["version"] if match else None

    def reference(self, own_repository: str) -> str:
        """The image every Airflow of the environment runs (``platform``: the environment's own repository, by name)."""
        repository = own_repository if self.repository == "platform" else self.repository
        return f"{repository}:{self.tag}"


def version_tuple(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


class GitDags(Model):
    repository: str = Field(pattern=r"^(https://|git@)[^\s]+$")
    ref: str = "main"
    """Branch or tag the bundle tracks."""
    subdir: str = "dags"
    credentials_secret: str | None = None
    """Name of a secret in the cloud's secret store holding ``{"username": …, "token": …}``; None for a public repository."""


class Dags(Model):
    source: Literal["image", "git"] = "image"
    """``image``: DAGs are baked into the Airflow image. ``git``: a versioned Airflow 3 DAG bundle."""
    git: GitDags | None = None

    @model_validator(mode="after")
    def _git_settings(self) -> Dags:
        if self.source == "git" and self.git is None:
            raise ValueError("source is git but the git section (repository, ref) is missing")
        if self.source == "image" and self.git is not None:
            raise ValueError("a git section is set but source is image; set source: git or remove it")
        return self


AirflowRole = Literal["Admin", "Op", "User", "Viewer"]


class SignIn(Model):
    """Single sign-on for the UI through the FAB auth manager's OAuth (see the README, "Signing in")."""

    provider: Literal["okta", "entra", "google", "github", "oidc"]
    client_id: str = Field(pattern=r"^[A-Za-z0-9._:/@-]{1,256}$")
    """The application's client id at the identity provider."""
    client_secret: SecretName
    """The cloud secret (a Kubernetes secret in the owners' namespace on an existing cluster) holding
    ``{"client_secret": "…"}``; the secret sync brings it to the API server, never the file."""
    issuer: str | None = Field(default=None, pattern=r"^https://[A-Za-z0-9.-]+(:\d+)?(/[A-Za-z0-9._~/-]*)?$")
    """The OpenID Connect issuer (Okta's ``https://<org>.okta.com/oauth2/default``, a generic issuer)."""
    tenant_id: str | None = Field(default=None, pattern=r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
    """Microsoft Entra ID's tenant."""
    groups: dict[Annotated[str, Field(min_length=1, max_length=256)], AirflowRole] = {}
    """Identity-provider group → Airflow role, applied at every sign-in."""
    default_role: Literal["Public", "Viewer", "User", "Op"] = "Public"
    """The role of someone in none of the groups (Public: signed in, sees nothing)."""

    @model_validator(mode="after")
    def _provider_fields(self) -> SignIn:
        needs = {"okta": "issuer", "oidc": "issuer", "entra": "tenant_id"}.get(self.provider)
        if needs and getattr(self, needs) is None:
            raise ValueError(f"{needs} is required with provider {self.provider}")
        for other in ("issuer", "tenant_id"):
            if other != needs and getattr(self, other) is not None:
                raise ValueError(f"{other} is not used with provider {self.provider}; remove it")
        if self.groups and self.provider in ("google", "github"):
            raise ValueError(
                f"groups: {self.provider} sends no group claim, so groups cannot map to roles; use default_role "
                "(or Okta, Entra ID or an OIDC issuer that sends groups)"
            )
        return self


class DnsZone(Model):
    """The private DNS zone the UIs' records are written to (by ExternalDNS in the cluster)."""

    id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9-]{0,62}$")
    """A Route 53 private hosted zone id (``Z0123456789ABCDEFGHIJ``) on AWS, a Cloud DNS managed zone's name on GCP."""
    domain: str = Field(pattern=r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$")
    """The zone's domain (``example.internal``): every Airflow's hostname must be under it."""


class Ui(Model):
    hostname: str = Field(pattern=r"^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$")
    certificate: str = Field(pattern=r"^[A-Za-z0-9:/._-]{1,2048}$")
    """The TLS certificate the load balancer presents: an ACM certificate ARN on AWS, the name of a
    regional SSL certificate on GCP, a TLS secret in Airflow's namespace on an existing cluster."""
    public: bool = False
    """False: an internal load balancer, reachable from the VPC and connected networks only."""
    allowed_cidrs: list[Cidr] = []
    """With a public load balancer, only these ranges may reach it."""
    auth: SignIn | None = None
    """Single sign-on; required outside dev (dev may keep the generated admin user instead)."""
    dns_zone: DnsZone | None = None
    """Where the record of each UI's hostname is kept, following its load balancer; None: you create it by hand."""
    internet_facing_reason: str | None = Field(default=None, min_length=20, max_length=500)
    """Why this UI must be reachable from the whole internet (``allowed_cidrs`` wider than a /8 in
    total, such as ``0.0.0.0/0``). Without it such an allow-list is refused; with it the reason stays
    in the file for every reviewer to read."""

    @model_validator(mode="after")
    def _public_needs_allow_list(self) -> Ui:
        if self.public and not self.allowed_cidrs:
            raise ValueError("public is true but allowed_cidrs is empty; list the ranges allowed to reach the UI")
        wide = internet_wide(self.allowed_cidrs) if self.public else 0
        if wide and self.internet_facing_reason is None:
            raise ValueError(
                f"allowed_cidrs admit {wide:,} addresses together, the whole internet; list the office or VPN "
                "ranges, or, if the UI must face the internet, say why in airflow.ui.internet_facing_reason"
            )
        if self.internet_facing_reason is not None and not wide:
            raise ValueError("internet_facing_reason is set but the UI does not face the internet; remove it")
        return self

    @property
    def internet_facing(self) -> bool:
        return self.public and bool(internet_wide(self.allowed_cidrs))


class Quota(Model):
    cpu: CpuQuantity
    memory: MemoryQuantity
    pods: int = Field(ge=10, le=5000)


CRON = r"^\S+( \S+){4}$"

RESERVED_AIRFLOW_TEAMS = ("connections", "variables")
"""Team names that cannot have an Airflow of their own: on Secret Manager (ids without folders), its
prefix ``<env>-airflow-<team>-…`` would start like the shared Airflow's ``<env>-airflow-connections-…``."""
TEAM_NAMESPACE_PREFIX = "team-"
"""A team's namespace is ``team-<name>``."""
PLATFORM_NAMESPACES: dict[str, str] = {
    "airflow": "Airflow's own namespace (its pods hold the database connection and the Fernet key)",
    "kube-system": "Kubernetes' own namespace (its service accounts control the cluster)",
    "kube-public": "Kubernetes' own namespace",
    "kube-node-lease": "Kubernetes' own namespace",
    "default": "the cluster's default namespace, which no guardrail covers",
    "external-secrets": "the secret operator's namespace (it reads every cloud secret Airflow uses)",
    "kyverno": "the policy engine's namespace",
    "keda": "the autoscaler's namespace",
    "datadog": "the monitoring agent's namespace (it holds the Datadog keys)",
    "karpenter": "the node autoscaler's namespace",
    "reloader": "the namespace of the controller that restarts Airflow when its secrets change",
    "airflow-db-admin": "the namespace that holds the database's master secret",
    "external-dns": "the namespace of the controller that writes the UIs' DNS records",
}
"""Namespaces Flightdeck, Kubernetes or an add-on owns, with why no DAG may launch pods there."""


class Hibernation(Model):
    """Airflow asleep on a schedule: every Deployment in its namespace scaled to zero, then back."""

    enabled: bool
    sleep: str = Field(default="0 20 * * 1-5", pattern=CRON)
    """When Airflow goes to sleep (cron, in ``time_zone``): weekday evenings."""
    wake: str = Field(default="0 7 * * 1-5", pattern=CRON)
    """When it wakes up: weekday mornings, so it sleeps through nights and weekends."""
    time_zone: str = Field(default="UTC", pattern=r"^[A-Za-z_]+(/[A-Za-z0-9_+-]+)*$")
    """An IANA time zone (``Europe/Berlin``) for both schedules."""
class DatabaseCleanup(Model):
    """The chart's database cleanup CronJob: ``airflow db clean`` of rows older than the retention."""

    enabled: bool = True
    retention_days: int = Field(ge=7, le=3650)
    """Task instances, DAG runs, logs and XComs older than this are deleted (per tier: 30, 60, 180 days)."""
    schedule: str = Field(default="30 3 * * *", pattern=CRON)


class AirflowByTier(Model):
    """The part of ``airflow:`` that each tier sets (``flightdeck/tiers.py``): sizes, replicas and what dev alone gets."""

    components: Components
    task_resources: Resources
    """Default requests of a task pod (the KubernetesExecutor pod template); tasks may ask for more."""
    celery_workers: int = Field(default=2, ge=1, le=100)
    """The most Celery workers KEDA scales to, when a Celery executor is selected."""
    quota: Quota
    """Resource quota of the Airflow namespace."""
    create_admin_user: bool
    """Create a default admin user with a generated password (dev only)."""
    deploy_timeout_minutes: int = Field(default=20, ge=5, le=60)
    """How long a deploy waits for migrations and rollout before failing."""
    hibernation: Hibernation
    """On by default in dev (nights and weekends), off in qa and prod."""
    database_cleanup: DatabaseCleanup
    """Keeps the metadata database from growing forever; purged rows are dropped, not archived (the README says why)."""


class Airflow(AirflowByTier):
    executor: Literal[EXECUTORS] = "KubernetesExecutor"  # type: ignore[valid-type]
    image: AirflowImage = AirflowImage()
    task_namespaces: list[KubernetesName] = ["airflow-tasks"]
    """Namespaces where KubernetesPodOperator may launch pods (besides Airflow's own)."""
    dags: Dags = Dags()
    ui: Ui
    config: dict[Annotated[str, Field(pattern=r"^[a-z_]+$")], dict[str, str | int | float | bool]] = {}
    """Airflow configuration overrides by section (the chart's ``config:``, successor of airflow.cfg)."""
    backfill_pool_slots: int = Field(default=8, ge=1, le=1024)
    """Slots of the Airflow pool ``backfill``: how many backfill tasks run at once (on the backfill nodes)."""

    @model_validator(mode="after")
    def _task_namespaces(self) -> Airflow:
        seen: set[str] = set()
        for index, namespace in enumerate(self.task_namespaces):
            where = f"task_namespaces[{index}]"
            if namespace in seen:
                raise ValueError(f"{where}: '{namespace}' is listed twice")
            seen.add(namespace)
            if namespace in PLATFORM_NAMESPACES:
                raise ValueError(
                    f"{where}: '{namespace}' is {PLATFORM_NAMESPACES[namespace]}; DAG pods run in namespaces of their own (for example airflow-tasks)"
                )
            if namespace.startswith(TEAM_NAMESPACE_PREFIX):
                raise ValueError(f"{where}: '{namespace}' is a team's namespace; declare the team under teams: instead")
        return self




class BucketGrant(Model):
    bucket: BucketName
    prefix: str = Field(default="", pattern=r"^([A-Za-z0-9!_.*'()-]+/)*$")
    """Objects under this prefix (``curated/``); empty: the whole bucket."""
    write: bool = False
    """Also put and delete objects (read is always granted)."""


class TeamPermissions(Model):
    """What a team's task pods may do in the cloud, and nothing else."""

    buckets: list[BucketGrant] = []
    secrets: list[SecretName] = []
    """Secrets (by name) the team's tasks may read."""


class DedicatedUi(Model):
    hostname: str = Field(pattern=r"^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$")
    """The team's own Airflow's UI (``analytics.airflow.example.com``)."""
    certificate: str | None = Field(default=None, pattern=r"^[A-Za-z0-9:/._-]{1,2048}$")
    """Its TLS certificate (same form as ``airflow.ui.certificate``); None: the environment's, which must then cover the hostname."""


class TeamAirflow(Model):
    """Which Airflow runs a team's DAGs: the environment's shared one, or one of its own."""

    mode: Literal["shared", "dedicated"] = "shared"
    """``dedicated``: its own namespace, release, database and role, identities, log folder, UI and
    DAG bundle, a boundary between teams that the shared Airflow is not (see the README, Tenancy)."""
    dags: Dags | None = None
    """A dedicated Airflow's DAG bundle: its own repository and ref (``source: git``)."""
    ui: DedicatedUi | None = None
    """A dedicated Airflow's UI; single sign-on and everything else comes from the environment's ``airflow:``."""

    @model_validator(mode="before")
    @classmethod
    def _short_form(cls, value: object) -> object:
        # ``airflow: dedicated`` and ``airflow: shared`` are shorthands for ``airflow: {mode: …}``.
        return {"mode": value} if isinstance(value, str) else value

    @model_validator(mode="after")
    def _dedicated_settings(self) -> TeamAirflow:
        if self.mode == "shared":
            if self.dags is not None or self.ui is not None:
                raise ValueError("dags and ui are set but mode is shared; they are the settings of a dedicated Airflow (mode: dedicated)")
            return self
        if self.dags is None or self.dags.git is None:
            raise ValueError(
                "a dedicated Airflow needs its own DAG bundle: dags: {source: git, git: {repository: …, ref: …}}"
            )
        if self.ui is None:
            raise ValueError("a dedicated Airflow needs its own UI: ui: {hostname: …} (and certificate, unless the environment's covers it)")
        return self

    @property
    def dedicated(self) -> bool:
        return self.mode == "dedicated"


class Team(Model):
    name: Annotated[str, Field(pattern=r"^[a-z][a-z0-9-]{0,18}[a-z0-9]$")]
    """Short name: the namespace is ``team-<name>``, the ``team`` label on pods and nodes."""
    cost_center: CostCenter
    quota: Quota
    permissions: TeamPermissions = TeamPermissions()
    dedicated_nodes: NodeGroup | None = None
    """A node group tainted ``team=<name>:NoSchedule`` that only this team's pods use."""
    pool_slots: int = Field(default=16, ge=1, le=1024)
    """Slots of the team's Airflow pool (``team-<name>``): how many of its tasks run at once."""
    airflow: TeamAirflow = TeamAirflow()
    """``shared`` (the default) or ``dedicated``: an Airflow of the team's own (see TeamAirflow)."""

    @property
    def namespace(self) -> str:
        return f"{TEAM_NAMESPACE_PREFIX}{self.name}"

    @property
    def airflow_namespace(self) -> str:
        """A dedicated Airflow's namespace (``airflow-<name>``)."""
        return f"airflow-{self.name}"


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

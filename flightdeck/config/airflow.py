"""``airflow:``: the image, its components' sizes, DAGs, the UI and who signs in, quotas, hibernation and cleanup."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import Field, model_validator

from .cluster import internet_wide
from .primitives import Cidr, Model, SecretName

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

"""Typed environment configuration.

An environment file (``environments/<name>.yaml``) is merged over the defaults of its tier
(``tiers.py``) and validated by :class:`EnvironmentConfig`. Every model is frozen and rejects
unknown keys, so a misspelled setting is an error instead of a silently ignored line.

These models are the user-facing contract. Constructs never see them, and this module imports no
construct: ``stacks/`` translates them into construct props (``stacks/aws.py``, ``stacks/gcp.py`` and
``stacks/existing.py`` for each cloud, ``stacks/airflow.py``, ``stacks/teams.py`` and
``stacks/datadog.py`` for the layers above the seam).
"""

from __future__ import annotations

import ipaddress
import re
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

# AWS commercial and GovCloud regions that offer EKS, RDS PostgreSQL and S3.
AWS_REGIONS = frozenset(
    {
        "af-south-1", "ap-east-1", "ap-east-2", "ap-northeast-1", "ap-northeast-2", "ap-northeast-3",
        "ap-south-1", "ap-south-2", "ap-southeast-1", "ap-southeast-2", "ap-southeast-3",
        "ap-southeast-4", "ap-southeast-5", "ap-southeast-7", "ca-central-1", "ca-west-1",
        "eu-central-1", "eu-central-2", "eu-north-1", "eu-south-1", "eu-south-2", "eu-west-1",
        "eu-west-2", "eu-west-3", "il-central-1", "me-central-1", "me-south-1", "mx-central-1",
        "sa-east-1", "us-east-1", "us-east-2", "us-west-1", "us-west-2",
        "us-gov-east-1", "us-gov-west-1",
    }
)

# The retention periods CloudWatch Logs accepts (anything else is rejected at apply time).
CLOUDWATCH_RETENTION_DAYS = (
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557,
    2922, 3288, 3653,
)


class Tier(StrEnum):
    """How big and how available an environment is. Everything else is the same in every tier."""

    DEV = "dev"
    QA = "qa"
    PROD = "prod"


def _aws_region(value: str) -> str:
    if value not in AWS_REGIONS:
        raise ValueError(f"'{value}' is not an AWS region (for example eu-west-1 or us-east-2)")
    return value


def _private_vpc_cidr(value: str) -> str:
    try:
        network = ipaddress.IPv4Network(value, strict=True)
    except ValueError as exc:
        raise ValueError(f"'{value}' is not a valid IPv4 CIDR block ({exc})") from None
    if not network.is_private:
        raise ValueError(f"{value} is not a private range (use one inside 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16)")
    if not 16 <= network.prefixlen <= 20:
        raise ValueError(f"{value} has a /{network.prefixlen} prefix; a VPC needs a /16 to /20 block")
    return str(network)


def _cidr(value: str) -> str:
    try:
        return str(ipaddress.IPv4Network(value, strict=True))
    except ValueError as exc:
        raise ValueError(f"'{value}' is not a valid IPv4 CIDR block ({exc})") from None


def _retention(value: int) -> int:
    if value not in CLOUDWATCH_RETENTION_DAYS:
        raise ValueError(f"{value} is not a CloudWatch retention period; choose one of {list(CLOUDWATCH_RETENTION_DAYS)}")
    return value


AwsRegion = Annotated[str, AfterValidator(_aws_region)]
VpcCidr = Annotated[str, AfterValidator(_private_vpc_cidr)]
Cidr = Annotated[str, AfterValidator(_cidr)]
RetentionDays = Annotated[int, AfterValidator(_retention)]
Slug = Annotated[str, Field(pattern=r"^[a-z][a-z0-9-]{0,38}[a-z0-9]$")]
BucketName = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")]
IamRoleArn = Annotated[str, Field(pattern=r"^arn:aws(-us-gov)?:iam::\d{12}:role/[A-Za-z0-9+=,.@_/-]+$")]
CostCenter = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{1,31}$")]


ENVIRONMENT_TAG = "env"
"""The tag naming a resource's environment; the CI deployer recognises the environment's KMS keys by it."""


def standard_tags(env: str, team: str, cost_center: str) -> dict[str, str]:
    """The tags every cloud resource carries (``platform_constructs/tagging.py`` requires the first three)."""
    return {ENVIRONMENT_TAG: env, "team": team, "cost-center": cost_center, "managed-by": "flightdeck"}


class Model(BaseModel):
    """Base of every configuration model: frozen, unknown keys rejected, no silent coercion of
    numbers into strings (YAML turns ``0123`` into an int, which should not become a cost center)."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class AwsAccount(Model):
    account_id: str = Field(pattern=r"^\d{12}$")
    """The 12-digit account the environment is deployed into; the provider refuses any other."""
    region: AwsRegion

    @property
    def partition(self) -> str:
        return "aws-us-gov" if self.region.startswith("us-gov-") else "aws"


class StateBackend(Model):
    bucket: BucketName
    """S3 bucket holding Terraform state (created once per account, see the README)."""
    region: AwsRegion | None = None
    """Region of the state bucket; defaults to the environment's region."""


class Network(Model):
    cidr: VpcCidr
    availability_zones: int = Field(ge=2, le=3)
    """Public, private and database subnets are spread over this many zones (3 outside dev)."""
    nat_gateways: Literal["single", "per_az"]
    """``per_az`` survives the loss of a zone; ``single`` is cheaper and fine for dev."""
    flow_logs: bool
    flow_log_retention_days: RetentionDays = 90


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


CapacityType = Literal["spot", "on-demand", "spot-or-on-demand"]
INSTANCE_FAMILY = re.compile(r"^[a-z]+[0-9][a-z0-9-]*$")
SMALLEST_NODE_CPUS = 2
"""Karpenter pools launch nodes of at least this many vCPUs (``.large`` and up)."""


class NodePoolCapacity(Model):
    """Nodes Karpenter launches when pods are pending and removes when they are empty or under-used (EKS)."""

    instance_families: list[Annotated[str, Field(pattern=INSTANCE_FAMILY.pattern)]] = Field(min_length=1)
    """EC2 instance families (``m6i``, ``c7i``): more families, more spot pools to choose from."""
    capacity: CapacityType
    """``spot`` (dev), ``spot-or-on-demand`` (spot first, on-demand when spot has none: qa), ``on-demand`` (prod)."""
    cpu_limit: int = Field(ge=SMALLEST_NODE_CPUS, le=100_000)
    """The most vCPUs the pool's nodes may have together: the pool's ceiling, in place of a node count."""
    memory_limit_gib: int = Field(ge=4, le=400_000)
    """The most memory the pool's nodes may have together."""
    disk_size_gib: int = Field(default=100, ge=20, le=2000)
    architecture: Literal["amd64", "arm64"] = "amd64"

    @property
    def max_nodes(self) -> int:
        return self.cpu_limit // SMALLEST_NODE_CPUS


class NodePools(Model):
    workers: NodePoolCapacity
    """Scheduled task pods (the ``workers`` label and taint)."""
    backfill: NodePoolCapacity
    """Backfills (the ``backfill`` Airflow pool and queue), so they never take scheduled runs' capacity."""


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


EksAddonName = Literal["vpc-cni", "coredns", "kube-proxy", "aws-ebs-csi-driver", "eks-pod-identity-agent", "amazon-cloudwatch-observability"]


class Cluster(Model):
    kubernetes_version: str = Field(pattern=r"^1\.\d{2}$")
    """Pinned control-plane version; upgrades are a one-line change reviewed like any other."""
    endpoint_public_access: bool
    """False keeps the API server reachable only from inside the VPC (prod)."""
    public_access_cidrs: list[Cidr] = []
    """When the endpoint is public, only these ranges may reach it."""
    log_retention_days: RetentionDays
    admin_role_arns: list[IamRoleArn] = []
    """IAM roles granted cluster-admin through EKS access entries."""
    addon_versions: dict[EksAddonName, str] = {}
    """Pin managed add-on versions; an add-on left out gets EKS's default for the cluster version."""
    node_groups: SystemNodeGroup
    node_pools: NodePools
    """Task capacity that grows with the queue (Karpenter), within CPU and memory limits."""
    node_image: str = Field(pattern=r"^al2023@v\d{8}$")
    """The Amazon Linux 2023 EKS AMI release of Karpenter's nodes (``al2023@v20251110``), pinned so a new AMI is a reviewed change."""
    bastion: bool = False
    """A small host in the private subnets, reached only through Session Manager, that forwards a
    workstation's port to the private API endpoint (see the README, "From a workstation")."""

    @model_validator(mode="after")
    def _public_access(self) -> Cluster:
        if self.public_access_cidrs and not self.endpoint_public_access:
            raise ValueError("public_access_cidrs is set but endpoint_public_access is false; remove one of them")
        _check_api_allow_list(self.endpoint_public_access, self.public_access_cidrs)
        return self


RunnerComputeType = Literal["BUILD_GENERAL1_SMALL", "BUILD_GENERAL1_MEDIUM", "BUILD_GENERAL1_LARGE"]


class Runner(Model):
    """The CodeBuild project in the environment's private subnets that CI applies the cluster stack from."""

    compute_type: RunnerComputeType = "BUILD_GENERAL1_MEDIUM"
    """4 vCPUs and 7 GB: Terraform with the kubernetes, helm and datadog providers and the cdktf CLI."""
    image: str = Field(default="aws/codebuild/standard:7.0", pattern=r"^[a-z0-9./:_-]+$")
    """Ubuntu, like GitHub's hosted runners, so the workflow's setup actions work unchanged."""
    timeout_minutes: int = Field(default=120, ge=10, le=480)
    """A deploy job that runs longer is stopped (the deployer's session lasts 2 hours)."""


class RestoreFrom(Model):
    """Build the environment's database from a snapshot: always a new instance, beside the old one."""

    snapshot: str = Field(pattern=r"^(arn:aws[a-z-]*:rds:[a-z0-9-]+:\d{12}:snapshot:)?(rds:)?[A-Za-z][A-Za-z0-9-]{0,254}$")
    """An RDS snapshot identifier (``rds:flightdeck-prod-2026-12-01-02-10`` for an automated one) or ARN."""
    instance: str = Field(pattern=r"^[a-z][a-z0-9]{0,9}$")
    """The new instance's suffix: it is ``<env prefix>-<instance>`` (``flightdeck-prod-r1``)."""
    replaces: str | None = Field(default=None, pattern=r"^[a-z][a-z0-9]{0,9}$")
    """The suffix of the instance this one replaces (an earlier restore's ``instance``); None: the original."""

    @model_validator(mode="after")
    def _new_instance(self) -> RestoreFrom:
        if self.replaces == self.instance:
            raise ValueError(f"instance '{self.instance}' is the instance it replaces; a restore always makes a new one")
        return self


class Database(Model):
    engine_version: str = Field(pattern=r"^1[4-8](\.\d+)?$")
    """PostgreSQL major (or major.minor) version; minor upgrades are applied automatically."""
    instance_class: str = Field(pattern=r"^db\.[a-z0-9]+\.[a-z0-9]+$")
    allocated_storage_gib: int = Field(ge=20, le=65536)
    max_allocated_storage_gib: int = Field(ge=20, le=65536)
    """Storage autoscaling ceiling."""
    multi_az: bool
    deletion_protection: bool
    backup_retention_days: int = Field(ge=1, le=35)
    final_snapshot: bool
    """Take a snapshot when the instance is destroyed (prod and qa)."""
    restore_from: RestoreFrom | None = None
    """Build the database from a snapshot, as a new instance; the old one is left running, no longer
    managed, for you to retire (see the README, Restoring the database)."""

    @model_validator(mode="after")
    def _storage(self) -> Database:
        if self.max_allocated_storage_gib < self.allocated_storage_gib:
            raise ValueError(
                f"max_allocated_storage_gib {self.max_allocated_storage_gib} is smaller than allocated_storage_gib {self.allocated_storage_gib}"
            )
        return self


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


class Airflow(Model):
    executor: Literal[EXECUTORS] = "KubernetesExecutor"  # type: ignore[valid-type]
    image: AirflowImage = AirflowImage()
    components: Components
    task_resources: Resources
    """Default requests of a task pod (the KubernetesExecutor pod template); tasks may ask for more."""
    celery_workers: int = Field(default=2, ge=1, le=100)
    """The most Celery workers KEDA scales to, when a Celery executor is selected."""
    task_namespaces: list[KubernetesName] = ["airflow-tasks"]
    """Namespaces where KubernetesPodOperator may launch pods (besides Airflow's own)."""
    dags: Dags = Dags()
    ui: Ui
    quota: Quota
    """Resource quota of the Airflow namespace."""
    create_admin_user: bool
    """Create a default admin user with a generated password (dev only)."""
    config: dict[Annotated[str, Field(pattern=r"^[a-z_]+$")], dict[str, str | int | float | bool]] = {}
    """Airflow configuration overrides by section (the chart's ``config:``, successor of airflow.cfg)."""
    deploy_timeout_minutes: int = Field(default=20, ge=5, le=60)
    """How long a deploy waits for migrations and rollout before failing."""
    hibernation: Hibernation
    """On by default in dev (nights and weekends), off in qa and prod."""
    database_cleanup: DatabaseCleanup
    """Keeps the metadata database from growing forever; purged rows are dropped, not archived (the README says why)."""
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


SecretName = Annotated[str, Field(pattern=r"^[A-Za-z0-9/_+=.@-]{1,512}$")]


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


# Datadog sites and the address of their web app (dashboards are linked from outputs and monitors).
DATADOG_SITES = {
    "datadoghq.com": "https://app.datadoghq.com",
    "us3.datadoghq.com": "https://us3.datadoghq.com",
    "us5.datadoghq.com": "https://us5.datadoghq.com",
    "datadoghq.eu": "https://app.datadoghq.eu",
    "ap1.datadoghq.com": "https://ap1.datadoghq.com",
    "ap2.datadoghq.com": "https://ap2.datadoghq.com",
    "ddog-gov.com": "https://app.ddog-gov.com",
}
DatadogSite = Literal[
    "datadoghq.com", "us3.datadoghq.com", "us5.datadoghq.com", "datadoghq.eu", "ap1.datadoghq.com",
    "ap2.datadoghq.com", "ddog-gov.com",
]


def _notification_handle(value: str) -> str:
    if not re.fullmatch(r"@[A-Za-z0-9][A-Za-z0-9_.+@-]*", value):
        raise ValueError(
            f"'{value}' is not a Datadog notification handle; write @slack-<channel>, @pagerduty-<service> or @<e-mail>"
        )
    return value


NotificationHandle = Annotated[str, AfterValidator(_notification_handle)]


class Threshold(Model):
    """Alert at ``critical``; ``warning`` (optional) is an earlier heads-up on the same side."""

    critical: float = Field(ge=0)
    warning: float | None = Field(default=None, ge=0)


class AboveThreshold(Threshold):
    """Alerts when the value rises above the thresholds."""

    @model_validator(mode="after")
    def _order(self) -> AboveThreshold:
        if self.warning is not None and self.warning >= self.critical:
            raise ValueError(f"warning {self.warning:g} must be below critical {self.critical:g}")
        return self


class BelowThreshold(Threshold):
    """Alerts when the value falls below the thresholds."""

    @model_validator(mode="after")
    def _order(self) -> BelowThreshold:
        if self.warning is not None and self.warning <= self.critical:
            raise ValueError(f"warning {self.warning:g} must be above critical {self.critical:g}")
        return self


class Monitors(Model):
    notify: list[NotificationHandle] = Field(min_length=1)
    """Who is told: ``@pagerduty-<service>`` pages on-call, ``@slack-<channel>`` posts to a channel."""
    priority: int = Field(ge=1, le=5)
    """Datadog priority of every monitor (1 is the most urgent)."""
    renotify_minutes: int | None = Field(default=None, ge=10, le=1440)
    """Repeat an unresolved alert this often; none: tell once."""
    scheduler_heartbeat_minutes: int = Field(ge=2, le=60)
    """Alert when no scheduler heartbeat arrived for this long."""
    task_failure_percent: AboveThreshold
    """Share of finished task instances that failed in the last hour."""
    import_errors: AboveThreshold
    """DAG files that fail to import."""
    queued_tasks: AboveThreshold
    """Tasks waiting in the executor queue, sustained over 15 minutes."""
    pending_pod_minutes: int = Field(ge=5, le=240)
    """Alert when task pods have been Pending for this long (no node, no quota, bad image)."""
    database_cpu_percent: AboveThreshold
    database_free_storage_gib: BelowThreshold
    database_connections: AboveThreshold
    """Open connections to the metadata database (every Airflow's PgBouncers and the roles job), sustained over 15 minutes."""
    provisioning_failures: AboveThreshold
    """Nodes the provisioner failed to launch in 30 minutes (EKS: Karpenter's failed EC2 launches; no capacity,
    a quota, an IAM or launch-template error). A few are normal: Karpenter falls back to other instance types."""


class Datadog(Model):
    site: DatadogSite
    api_key_secret: SecretName
    """Name of the cloud secret holding ``{"api_key": "…"}``; synced into the cluster, never into Terraform."""
    cluster_agent_replicas: int = Field(ge=1, le=3)
    monitors: Monitors

    @property
    def app_url(self) -> str:
        return DATADOG_SITES[self.site]

    @property
    def api_url(self) -> str:
        return f"https://api.{self.site}/"


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


class AwsTeam(Team):
    dedicated_nodes: NodePoolCapacity | None = None  # type: ignore[assignment]
    """A Karpenter node pool labelled and tainted ``team=<name>`` that only this team's pods use."""


class AwsEnvironment(EnvironmentBase):
    """``cloud: aws``: EKS, RDS, S3 and ECR in one AWS account."""

    cloud: Literal["aws"] = "aws"
    aws: AwsAccount
    state: StateBackend
    network: Network
    cluster: Cluster
    database: Database
    task_logs: TaskLogs
    image_repository: ImageRepository = ImageRepository()
    runner: Runner = Runner()
    teams: list[AwsTeam] = []  # type: ignore[assignment]

    @model_validator(mode="after")
    def _aws(self) -> AwsEnvironment:
        _check_public_endpoint_tier(
            self.tier,
            self.cluster.endpoint_public_access,
            "deployed from the runner inside its network (and by people through cluster.bastion or a VPN)",
        )
        if self.tier is not Tier.DEV and self.network.availability_zones < 3:
            raise ValueError(
                f"network.availability_zones is {self.network.availability_zones}; only dev may use fewer than 3 zones"
            )
        if self.tier is Tier.PROD and not self.database.multi_az:
            raise ValueError("database.multi_az is false; prod needs a standby in a second zone")
        if self.tier is Tier.PROD and not self.database.final_snapshot:
            raise ValueError("database.final_snapshot is false; prod keeps a snapshot when its database is destroyed")
        if self.tier is Tier.PROD and not self.database.deletion_protection:
            raise ValueError("database.deletion_protection is false; prod's database must be protected from deletion")
        zone = self.airflow.ui.dns_zone
        if zone is not None and not re.fullmatch(r"Z[A-Z0-9]{1,32}", zone.id):
            raise ValueError(f"airflow.ui.dns_zone.id: '{zone.id}' is not a Route 53 hosted zone id (Z followed by letters and digits)")
        for field, certificate in self.ui_certificates():
            if not ACM_CERTIFICATE.match(certificate):
                raise ValueError(f"{field}: '{certificate}' is not an ACM certificate ARN (arn:aws:acm:<region>:<account>:certificate/<id>)")
        system = self.cluster.node_groups.system
        for kind in system.instance_types:
            if not AWS_INSTANCE_TYPE.match(kind):
                raise ValueError(f"cluster.node_groups.system.instance_types: '{kind}' is not an EC2 instance type (for example m6i.large)")
        _check_system_pool(self.tier, system, "cluster.node_groups.system", _aws_too_small)
        account, region = self.aws.account_id, self.aws.region
        for index, arn in enumerate(self.cluster.admin_role_arns):
            if arn.split(":")[4] != account:
                raise ValueError(
                    f"cluster.admin_role_arns[{index}]: '{arn}' is in account {arn.split(':')[4]}, not the environment's "
                    f"{account}; grant cluster admin to a role in {account} (people from other accounts assume that one)"
                )
        for field, certificate in self.ui_certificates():
            parts = certificate.split(":")
            if (parts[4], parts[3]) != (account, region):
                raise ValueError(
                    f"{field}: the certificate is in account {parts[4]}, region {parts[3]}; the load balancer "
                    f"can only present one from its own account {account} and region {region}"
                )
        return self

    @property
    def flightdeck_buckets(self) -> dict[str, str]:
        return {self.state.bucket: "Terraform state", self.log_bucket_name: "task log"}

    @property
    def cloud_scope(self) -> str | None:
        return f"AWS account {self.aws.account_id}"

    @property
    def log_bucket_name(self) -> str:
        return self.task_logs.bucket_name or f"{self.resource_prefix}-airflow-logs-{self.aws.account_id}"

    @property
    def image_repository_name(self) -> str:
        return self.image_repository.name or f"{self.resource_prefix}/airflow"

    @property
    def state_region(self) -> str:
        return self.state.region or self.aws.region

    @property
    def max_nodes(self) -> int:
        pools = [self.cluster.node_pools.workers, self.cluster.node_pools.backfill, *(t.dedicated_nodes for t in self.teams if t.dedicated_nodes)]
        return self.cluster.node_groups.system.max_size + sum(pool.max_nodes for pool in pools)


def _gcp_zone(value: str) -> str:
    if not re.fullmatch(r"[a-z]+-[a-z]+\d+-[a-z]", value):
        raise ValueError(f"'{value}' is not a Google Cloud zone (for example europe-west1-b)")
    return value


GcpZone = Annotated[str, AfterValidator(_gcp_zone)]


class GcpProject(Model):
    project_id: str = Field(pattern=r"^[a-z][a-z0-9-]{4,28}[a-z0-9]$")
    """The project the environment is deployed into."""
    region: str = Field(pattern=r"^[a-z]+-[a-z]+\d+$")
    zones: list[GcpZone] = Field(min_length=1, max_length=4)
    """Zones of ``region`` the nodes run in; a regional cluster (qa, prod) spreads over all of them,
    a zonal one (dev) lives in the first."""

    @model_validator(mode="after")
    def _zones_in_region(self) -> GcpProject:
        for index, zone in enumerate(self.zones):
            if zone.rsplit("-", 1)[0] != self.region:
                raise ValueError(f"zones[{index}] '{zone}' is not in region {self.region}")
        if len(set(self.zones)) != len(self.zones):
            raise ValueError("zones lists a zone twice")
        return self


class GcsState(Model):
    bucket: BucketName
    """GCS bucket holding Terraform state (versioned, created once per organisation, see the README)."""


class GcpNetwork(Model):
    cidr: VpcCidr
    """The VPC's whole range: nodes, pods, services, the load balancer's proxies, the control plane and
    Cloud SQL's peering range are carved from it."""
    flow_logs: bool


class GkeCluster(Model):
    kubernetes_version: str = Field(pattern=r"^1\.\d{2}$")
    """Minimum control-plane version; the release channel upgrades within and beyond it."""
    release_channel: Literal["RAPID", "REGULAR", "STABLE"]
    regional: bool
    """A control plane replicated over the region's zones (required outside dev)."""
    endpoint_public_access: bool
    """False: the API server has only a private address, reachable from inside the VPC."""
    public_access_cidrs: list[Cidr] = []
    """Master authorized networks: when the endpoint is public, only these ranges may reach it."""
    node_groups: NodeGroups
    """``instance_types`` holds one machine type per pool (``e2-standard-4``)."""

    @model_validator(mode="after")
    def _public_access(self) -> GkeCluster:
        _check_api_allow_list(self.endpoint_public_access, self.public_access_cidrs)
        return self


class CloudSqlRestore(Model):
    """Build the environment's database from a backup: always a new instance, beside the old one."""

    instance: str = Field(pattern=r"^[a-z][a-z0-9]{0,9}$")
    """The new instance's suffix: it is ``<env prefix>-<instance>`` (``flightdeck-prod-r1``)."""
    replaces: str | None = Field(default=None, pattern=r"^[a-z][a-z0-9]{0,9}$")
    """The suffix of the instance this one replaces and is restored from (an earlier restore's ``instance``); None: the original."""
    point_in_time: str | None = None
    """A clone of that instance as it was then (RFC 3339, UTC: ``2026-12-01T02:10:00Z``), within its point-in-time window;
    the instance's ``airflow-upgrade-point`` label (``20261201t021000z``) is taken as it is."""
    backup_run_id: int | None = Field(default=None, ge=1)
    """Or one of its backups (``gcloud sql backups list --instance …``), restored onto the new instance."""

    @field_validator("point_in_time")
    @classmethod
    def _utc_time(cls, value: str | None) -> str | None:
        if value is None or re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z", value):
            return value
        # The instance's airflow-upgrade-point label as it is (20261202t153000z), copied from gcloud.
        if label := re.fullmatch(r"(\d{4})(\d{2})(\d{2})t(\d{2})(\d{2})(\d{2})z", value):
            year, month, day, hour, minute, second = label.groups()
            return f"{year}-{month}-{day}T{hour}:{minute}:{second}Z"
        raise ValueError(
            f"'{value}' is not a time in RFC 3339 and UTC, like 2026-12-01T02:10:00Z (or an airflow-upgrade-point label, like 20261201t021000z)"
        )

    @model_validator(mode="after")
    def _one_source(self) -> CloudSqlRestore:
        if self.replaces == self.instance:
            raise ValueError(f"instance '{self.instance}' is the instance it replaces; a restore always makes a new one")
        if (self.point_in_time is None) == (self.backup_run_id is None):
            raise ValueError("set exactly one of point_in_time (a clone as it was then) and backup_run_id (one of its backups)")
        return self


class CloudSql(Model):
    engine_version: str = Field(pattern=r"^1[4-8]$")
    """PostgreSQL major version (Cloud SQL applies minor versions itself)."""
    tier: str = Field(pattern=r"^db-(custom-\d+-\d+|[a-z0-9]+-[a-z0-9-]+)$")
    """Machine tier (``db-custom-2-7680``: 2 vCPUs, 7.5 GiB)."""
    disk_size_gib: int = Field(ge=10, le=65536)
    disk_autoresize_limit_gib: int = Field(ge=10, le=65536)
    high_availability: bool
    """A standby in another zone with automatic failover (REGIONAL availability)."""
    deletion_protection: bool
    backup_retention_days: int = Field(ge=1, le=365)
    point_in_time_recovery_days: int = Field(ge=0, le=7)
    """Days of write-ahead log kept for point-in-time recovery; 0 turns it off."""
    final_backup: bool
    """Keep a final backup when the instance is deleted."""
    restore_from: CloudSqlRestore | None = None
    """Build the database from a backup or a point in time, as a new instance; the old one is left running,
    no longer managed, for you to retire (see the README, Restoring the database)."""

    @model_validator(mode="after")
    def _storage(self) -> CloudSql:
        if self.disk_autoresize_limit_gib < self.disk_size_gib:
            raise ValueError(
                f"disk_autoresize_limit_gib {self.disk_autoresize_limit_gib} is smaller than disk_size_gib {self.disk_size_gib}"
            )
        return self


class GcpEnvironment(EnvironmentBase):
    """``cloud: gcp``: GKE, Cloud SQL, GCS and Artifact Registry in one Google Cloud project."""

    cloud: Literal["gcp"]
    gcp: GcpProject
    state: GcsState
    network: GcpNetwork
    cluster: GkeCluster
    database: CloudSql
    task_logs: TaskLogs
    image_repository: ImageRepository = ImageRepository()

    @model_validator(mode="after")
    def _gcp(self) -> GcpEnvironment:
        _check_public_endpoint_tier(
            self.tier, self.cluster.endpoint_public_access, "reached through its DNS-based endpoint, which admits IAM principals only"
        )
        if self.tier is not Tier.DEV and not self.cluster.regional:
            raise ValueError("cluster.regional is false; only dev may run a zonal cluster")
        _check_system_pool(self.tier, self.cluster.node_groups.system, "cluster.node_groups.system", _gcp_too_small)
        if self.cluster.regional and len(self.gcp.zones) < 3:
            raise ValueError(f"gcp.zones lists {len(self.gcp.zones)} zones; a regional cluster spreads over at least 3")
        if self.tier is Tier.PROD and not self.database.high_availability:
            raise ValueError("database.high_availability is false; prod needs a standby in a second zone")
        if self.tier is Tier.PROD and not self.database.deletion_protection:
            raise ValueError("database.deletion_protection is false; prod's database must be protected from deletion")
        if self.tier is Tier.PROD and not self.database.final_backup:
            raise ValueError("database.final_backup is false; prod keeps a backup when its database is deleted")
        if self.tier is not Tier.DEV and self.database.point_in_time_recovery_days == 0:
            raise ValueError(
                f"database.point_in_time_recovery_days is 0; {self.tier.value} keeps write-ahead logs for point-in-time recovery "
                "(on GCP the way back from an Airflow upgrade is a clone from just before it)"
            )
        restore = self.database.restore_from
        if restore is not None and restore.point_in_time is not None and self.database.point_in_time_recovery_days == 0:
            raise ValueError(
                "database.restore_from.point_in_time is set but database.point_in_time_recovery_days is 0: "
                "the instance keeps no write-ahead log to clone from; restore a backup_run_id instead"
            )
        for field, certificate in self.ui_certificates():
            if not RESOURCE_NAME.match(certificate):
                raise ValueError(
                    f"{field}: '{certificate}' is not the name of a regional SSL certificate (lowercase letters, digits and dashes)"
                )
        zone = self.airflow.ui.dns_zone
        if zone is not None and not RESOURCE_NAME.match(zone.id):
            raise ValueError(f"airflow.ui.dns_zone.id: '{zone.id}' is not a Cloud DNS managed zone name (lowercase letters, digits and dashes)")
        if self.airflow.ui.public:
            raise ValueError(
                "airflow.ui.public is true; on GCP the UI is served by an internal load balancer only "
                "(limiting a public one's sources needs Cloud Armor, which Flightdeck does not set up)"
            )
        name = self.image_repository.name
        if name is not None and not RESOURCE_NAME.match(name):
            raise ValueError(f"image_repository.name: '{name}' is not an Artifact Registry repository id (lowercase letters, digits, dashes)")
        self._check_node_groups(self.cluster.node_groups, GCP_MACHINE_TYPE, "e2-standard-4", single=True)
        for field, secret in self._secret_fields():
            if not SECRET_MANAGER_ID.match(secret):
                raise ValueError(f"{field}: '{secret}' is not a Secret Manager secret id (letters, digits, _ and -; no /)")
        return self

    @property
    def cloud_scope(self) -> str | None:
        return f"Google Cloud project {self.gcp.project_id}"

    @property
    def flightdeck_buckets(self) -> dict[str, str]:
        return {self.state.bucket: "Terraform state", self.log_bucket_name: "task log"}

    @property
    def log_bucket_name(self) -> str:
        return self.task_logs.bucket_name or f"{self.resource_prefix}-airflow-logs-{self.gcp.project_id}"

    @property
    def image_repository_name(self) -> str:
        return self.image_repository.name or f"{self.resource_prefix}-airflow"

    @property
    def max_nodes(self) -> int:
        return _node_total(self.cluster.node_groups, self.teams)


class ExistingDatabase(Model):
    host: str = Field(pattern=r"^[A-Za-z0-9.-]+$")
    """The PostgreSQL server's address (a DNS name or an IP)."""
    port: int = Field(default=5432, ge=1, le=65535)
    name: str = Field(default="airflow", pattern=r"^[a-z_][a-z0-9_]{0,62}$")
    """The database Airflow owns on that server."""
    secret: KubernetesName
    """A Kubernetes secret in ``secrets_namespace`` with ``username`` and ``password`` keys."""
    cidrs: list[Cidr] = Field(min_length=1)
    """Where the server is (``10.0.5.10/32``, or the pod range for a database in the cluster): PgBouncer may connect there only."""
    tls: Literal["require", "prefer", "disable"] = "require"
    """PgBouncer's ``server_tls_sslmode``; ``prefer`` or ``disable`` only for a server without TLS (a local trial)."""


class ExistingTaskLogs(Model):
    remote_base_log_folder: str = Field(pattern=r"^(s3|gs|wasb)://[a-z0-9][a-z0-9._-]*[a-z0-9](/[A-Za-z0-9._/-]*)?$")
    """Where Airflow writes task logs (``s3://bucket/airflow``)."""
    connection_id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    """The Airflow connection with access to it (provided by the cluster's owners, e.g. as an
    ``AIRFLOW_CONN_…`` secret or workload identity of the pods)."""


class ExistingCluster(Model):
    kubeconfig_path: str = Field(min_length=1)
    """The kubeconfig Terraform uses (``~/.kube/config``)."""
    context: str = Field(min_length=1)
    """The context in it that names the cluster (``kind-flightdeck``)."""
    secrets_namespace: KubernetesName
    """Namespace where the cluster's owners keep the secrets this file names (database, DAG
    repository, Datadog key); Flightdeck reads them from there, it never writes them."""
    database: ExistingDatabase
    nodes_cidr: Cidr
    """The nodes' addresses (the monitoring agent reads their kubelets)."""
    pods_cidr: Cidr
    """The pods' addresses (the ingress controller reaches the UI from there)."""
    ingress_class: KubernetesName = "nginx"
    """The IngressClass of the cluster's ingress controller."""
    max_nodes: int = Field(default=10, ge=1, le=5000)
    """The most nodes the cluster has (sizes the monitoring agent's quota)."""
    task_logs: ExistingTaskLogs | None = None
    """Remote task logs; none: logs stay in the task pod and go with it (fine for a trial, not for production)."""


class LocalState(Model):
    path: str = Field(pattern=r"^[A-Za-z0-9._/-]+\.tfstate$")
    """State file, relative to the project folder (``terraform-state/dev.tfstate``); keep it out of git."""


class ExistingEnvironment(EnvironmentBase):
    """``cloud: existing``: only the Kubernetes, Airflow and monitoring layers, on a cluster someone else runs."""

    cloud: Literal["existing"]
    existing: ExistingCluster
    state: StateBackend | GcsState | LocalState | None = None
    """Remote state (an S3 bucket with its region, or a GCS bucket), a local file, or by default
    ``terraform-state/<env>.tfstate`` in the project folder."""

    @property
    def stack_parts(self) -> tuple[StackPart, ...]:
        """One stack: the cluster and everything around it belong to its owners."""
        return ("cluster",)

    @property
    def flightdeck_buckets(self) -> dict[str, str]:
        state = self.state
        return {state.bucket: "Terraform state"} if isinstance(state, StateBackend | GcsState) else {}

    @model_validator(mode="after")
    def _existing(self) -> ExistingEnvironment:
        if isinstance(self.state, StateBackend) and self.state.region is None:
            raise ValueError("state.region is not set; an S3 state bucket needs its region on an existing cluster")
        if self.airflow.image.repository == "platform":
            raise ValueError("airflow.image.repository is 'platform', but an existing cluster has no platform image repository; name the image")
        if not RESOURCE_NAME.match(self.airflow.ui.certificate) or len(self.airflow.ui.certificate) > 63:
            raise ValueError(f"airflow.ui.certificate: '{self.airflow.ui.certificate}' is not a TLS secret name in Airflow's namespace")
        if self.airflow.ui.public:
            raise ValueError("airflow.ui.public is true; on an existing cluster the cluster's owners decide how the ingress is exposed")
        if self.airflow.ui.dns_zone is not None:
            raise ValueError("airflow.ui.dns_zone is set; on an existing cluster the cluster's owners run its DNS (ask them for the record)")
        if self.tier is not Tier.DEV and self.existing.database.tls != "require":
            raise ValueError(
                f"existing.database.tls is '{self.existing.database.tls}'; a {self.tier} environment's database connection "
                "is always encrypted ('require'): 'prefer' falls back to plain text without a word"
            )
        for field, name in [("existing.database.secret", self.existing.database.secret), *self._secret_fields()]:
            if not KUBERNETES_NAME.match(name):
                raise ValueError(
                    f"{field}: '{name}' is not a Kubernetes secret name; on an existing cluster secrets live in existing.secrets_namespace"
                )
        for index, team in enumerate(self.teams):
            if team.dedicated_nodes is not None:
                raise ValueError(f"teams[{index}].dedicated_nodes is set; Flightdeck does not create nodes on an existing cluster")
            if team.permissions.buckets or team.permissions.secrets:
                raise ValueError(f"teams[{index}].permissions is set; an existing cluster gets no cloud identities from Flightdeck")
            if team.airflow.dedicated:
                raise ValueError(
                    f"teams[{index}].airflow is dedicated; on an existing cluster Flightdeck makes no database, role or "
                    "identities, so a team's own Airflow is a Flightdeck environment of its own (its own file, with the "
                    "database and secrets its owners provide)"
                )
        return self

    @property
    def max_nodes(self) -> int:
        return self.existing.max_nodes


EnvironmentConfig = AwsEnvironment | GcpEnvironment | ExistingEnvironment
"""One environment, validated by the model of its ``cloud:``."""

ENVIRONMENT_MODELS: dict[str, type[AwsEnvironment | GcpEnvironment | ExistingEnvironment]] = {
    "aws": AwsEnvironment,
    "gcp": GcpEnvironment,
    "existing": ExistingEnvironment,
}
"""``cloud:`` value → the model that validates such a file."""


SLUG_PATTERN = re.compile(r"^[a-z][a-z0-9-]{0,38}[a-z0-9]$")
CI_NAME = "ci"
"""Flightdeck's CI identities are named ``<project>-ci-…`` (``flightdeck/ci.py``); no environment may be named so."""
BOOTSTRAP_NAME = "bootstrap"
"""The bootstrap stack's name and the folder of its state (``<project>/bootstrap/``); no environment may be named so."""


class GithubRepository(Model):
    repository: str = Field(pattern=r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")
    """``owner/name`` of the repository whose workflow deploys; no other repository's tokens are trusted."""
    default_branch: str = Field(default="main", pattern=r"^[A-Za-z0-9._/-]+$")
    """The branch whose pushes deploy (the workflow's trigger)."""


class BootstrapAws(Model):
    admin_role_name: str = Field(default="OrganizationAccountAccessRole", pattern=r"^[A-Za-z0-9+=,.@_-]{1,64}$")
    """Role an administrator assumes in each environment's account to create the bootstrap
    resources (AWS Organizations creates this one in every member account)."""


class BootstrapState(Model):
    bucket: BucketName
    """Where the bootstrap stack keeps its own state: one of the state buckets it creates."""
    region: AwsRegion


class BootstrapConfig(Model):
    """``bootstrap.yaml``: what every environment needs before its first deploy (state buckets, CI roles)."""

    source: str
    project: Slug = "flightdeck"
    owner: Slug
    cost_center: CostCenter
    github: GithubRepository
    aws: BootstrapAws = BootstrapAws()
    state: BootstrapState

    @property
    def tags(self) -> dict[str, str]:
        return standard_tags("bootstrap", self.owner, self.cost_center)

    @property
    def state_key(self) -> str:
        return f"{self.project}/{BOOTSTRAP_NAME}/terraform.tfstate"

"""``cloud: aws``: the account, network, EKS cluster and its node pools, RDS, the CI runner."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import Field, model_validator

from .base import (
    ACM_CERTIFICATE,
    AWS_INSTANCE_TYPE,
    EnvironmentBase,
    ImageRepository,
    TaskLogs,
)
from .cluster import (
    SystemNodeGroup,
    _aws_too_small,
    _check_api_allow_list,
    _check_public_endpoint_tier,
    _check_system_pool,
)
from .primitives import AwsRegion, BucketName, Cidr, IamRoleArn, Model, RetentionDays, Tier, VpcCidr
from .teams import (
    Team,
)


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


class NetworkByTier(Model):
    """The part of ``network:`` that each tier sets (``flightdeck/tiers.py``)."""

    availability_zones: int = Field(ge=2, le=3)
    """Public, private and database subnets are spread over this many zones (3 outside dev)."""
    nat_gateways: Literal["single", "per_az"]
    """``per_az`` survives the loss of a zone; ``single`` is cheaper and fine for dev."""
    flow_logs: bool
    flow_log_retention_days: RetentionDays = 90


class Network(NetworkByTier):
    cidr: VpcCidr


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

"""``cloud: gcp``: the project, network, GKE cluster and Cloud SQL."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, field_validator, model_validator

from .base import (
    GCP_MACHINE_TYPE,
    RESOURCE_NAME,
    SECRET_MANAGER_ID,
    EnvironmentBase,
    ImageRepository,
    TaskLogs,
    _node_total,
)
from .cluster import (
    NodeGroups,
    _check_api_allow_list,
    _check_public_endpoint_tier,
    _check_system_pool,
    _gcp_too_small,
)
from .primitives import BucketName, Cidr, Model, Tier, VpcCidr


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


class GcpNetworkByTier(Model):
    """The part of ``network:`` that each tier sets (``flightdeck/tiers.py``)."""

    flow_logs: bool


class GcpNetwork(GcpNetworkByTier):
    cidr: VpcCidr
    """The VPC's whole range: nodes, pods, services, the load balancer's proxies, the control plane and
    Cloud SQL's peering range are carved from it."""


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

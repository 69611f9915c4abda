"""Props of the GCP side of the cloud seam (plain frozen dataclasses; ``stacks/gcp.py`` fills them)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from ..placement import NodePool
from ..teams import TeamSpec
from ..workloads import AirflowInstance, Workload


@dataclass(frozen=True, kw_only=True)
class GcpNetworkSettings:
    cidr: str
    """The whole VPC's range (/16 to /20); nodes, pods, services, the proxy-only subnet, the
    control plane and Cloud SQL's peering range are carved from it (see ``network.py``)."""
    flow_logs: bool


@dataclass(frozen=True, kw_only=True)
class GkeNodePoolSpec:
    pool: NodePool
    """Kubernetes labels and taints of the nodes (``placement.py``)."""
    machine_type: str
    min_nodes: int
    """Autoscaling floor, across all the pool's zones."""
    initial_nodes: int
    """Nodes at creation, across all zones (the autoscaler owns the count afterwards)."""
    max_nodes: int
    """Autoscaling ceiling, across all zones."""
    disk_size_gib: int
    """Each node's boot disk; its default is the configuration's (``NodeGroup.disk_size_gib``), declared once there."""
    spot: bool = False
    labels: Mapping[str, str] | None = None
    """GCP resource labels of the pool's VMs; None: the environment's."""


@dataclass(frozen=True, kw_only=True)
class GkeSettings:
    kubernetes_version: str
    """Minimum control-plane version (``1.33``); the release channel upgrades within it."""
    release_channel: str
    """``RAPID``, ``REGULAR`` or ``STABLE``."""
    regional: bool
    """True: a regional control plane and nodes in every zone of ``zones`` (prod). False: a zonal
    cluster in the first zone (dev)."""
    node_pools: Sequence[GkeNodePoolSpec]
    private_endpoint: bool = True
    """True: the API server has only a private address (reach it from inside the VPC)."""
    master_authorized_cidrs: Sequence[str] = ()
    """Ranges allowed to reach the API server (besides the VPC itself)."""
    deletion_protection: bool = True


@dataclass(frozen=True, kw_only=True)
class CloudSqlRestore:
    instance: str
    """The new instance's suffix (``r1``: ``flightdeck-prod-r1``)."""
    replaces: str | None = None
    """The suffix of the instance it replaces and is restored from; None: the original (``flightdeck-prod``)."""
    point_in_time: str | None = None
    """Clone that instance as it was then (RFC 3339)."""
    backup_run_id: int | None = None
    """Or restore one of its backups onto the new instance."""


@dataclass(frozen=True, kw_only=True)
class CloudSqlSettings:
    engine_version: str
    """PostgreSQL major version (``16`` → ``POSTGRES_16``)."""
    tier: str
    """Machine tier (``db-custom-2-7680``)."""
    disk_size_gib: int
    disk_autoresize_limit_gib: int
    high_availability: bool
    """True: REGIONAL availability, a standby in a second zone with automatic failover."""
    deletion_protection: bool
    backup_retention_days: int
    """Daily backups kept."""
    point_in_time_recovery_days: int
    """Days of write-ahead log kept for point-in-time recovery (0: off)."""
    final_backup: bool
    """Keep a final backup when the instance is deleted."""
    restore: CloudSqlRestore | None = None
    """Build the instance from a backup or a point in time (a new instance, beside the old one); None: a new, empty database or the existing one."""
    airflow_image: str | None = None
    """The Airflow image about to run: when it changes, the instance records the plan's time, a point before its migration."""
    airflow_version: str | None = None
    """Its Airflow version: kept as a label of the instance, and a plan that goes below it is refused."""


@dataclass(frozen=True, kw_only=True)
class GcpPlatformProps:
    name: str
    """Prefix of every resource name and the cluster's name (``flightdeck-prod``)."""
    project_id: str
    region: str
    zones: Sequence[str]
    """Zones of the region the nodes run in (the first one for a zonal cluster)."""
    labels: Mapping[str, str]
    """The environment's labels (GCP-safe: lowercase), set on every labelled resource."""
    network: GcpNetworkSettings
    cluster: GkeSettings
    database: CloudSqlSettings
    log_bucket_name: str
    log_expire_after_days: int
    image_repository_name: str
    """Artifact Registry repository id (``flightdeck-prod-airflow``)."""
    workloads: Sequence[Workload]
    """Kubernetes service accounts that get a Google service account of their own."""
    image_keep_untagged_days: int = 14
    readable_secret_names: Sequence[str] = ()
    """Secret Manager secrets (by id) that Airflow's secret sync may read besides the database's."""
    teams: Sequence[TeamSpec] = ()
    """Each gets a Google service account for its task pods (its node pool, if any, is in ``cluster.node_pools``)."""
    dedicated_airflows: Sequence[AirflowInstance] = ()
    """Teams' own Airflows: each gets its components' service accounts, its log folder and its folder of kept keys."""
    dns_zone: ManagedZone | None = None
    """The private Cloud DNS zone of the UIs' records (ExternalDNS); None: records are made by hand."""


@dataclass(frozen=True, kw_only=True)
class ManagedZone:
    name: str
    """The Cloud DNS managed zone's name (in the environment's project)."""
    domain: str
    owner: str
    """The TXT registry's owner id (``flightdeck-prod``)."""

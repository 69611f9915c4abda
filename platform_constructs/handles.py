"""What a cloud hands to the layers above it.

The cloud seam (``aws/``, later ``gcp/`` and an existing cluster) builds the network, cluster,
identities, database, log store and image repository, and returns these small objects. The
Kubernetes guardrails, the Airflow release and monitoring only ever see handles, never a cloud
resource, so they are the same code on every cloud.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .placement import NodePool
from .workloads import Workload

if TYPE_CHECKING:
    from cdktf import ITerraformDependable


@dataclass(frozen=True, kw_only=True)
class ExecCredentials:
    """A client-go exec plugin that prints a short-lived token (``aws eks get-token``).

    Providers configured with it never store a token in Terraform state.
    """

    api_version: str
    command: str
    args: tuple[str, ...]
    env: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class ClusterHandle:
    name: str
    endpoint: str
    ca_certificate_base64: str
    credentials: ExecCredentials
    node_pools: Sequence[NodePool]
    ready: Sequence[ITerraformDependable] = ()
    """Resources that must exist before anything is scheduled onto the cluster (node groups, add-ons)."""
    connect_command: str = ""
    """The command an operator runs to get a kubeconfig."""


@dataclass(frozen=True, kw_only=True)
class WorkloadIdentity:
    """A Kubernetes service account that acts as a cloud identity."""

    workload: Workload
    principal: str
    """The cloud identity (role ARN, service account e-mail)."""
    service_account_annotations: Mapping[str, str] = field(default_factory=dict)
    """Annotations the service account needs (none with EKS Pod Identity; GKE needs one)."""


@dataclass(frozen=True, kw_only=True)
class DatabaseMetrics:
    """Where Datadog finds the database's own metrics (collected by its cloud integration)."""

    scope: str
    """The tag that picks this database out (``dbinstanceidentifier:flightdeck-prod-airflow``)."""
    cpu_percent: str
    free_storage_bytes: str
    connections: str


@dataclass(frozen=True, kw_only=True)
class DatabaseHandle:
    host: str
    port: int
    database_name: str
    username: str
    credentials_secret: str
    """Where the cloud keeps the generated password (a Secrets Manager ARN); never the password."""
    metrics: DatabaseMetrics
    credentials_secret_key: str = "password"
    """Key of the password inside that secret."""


@dataclass(frozen=True, kw_only=True)
class LogStore:
    bucket: str
    remote_base_log_folder: str
    """Airflow's ``[logging] remote_base_log_folder`` (``s3://bucket/airflow``)."""
    connection_id: str
    connection_uri: str
    """An Airflow connection without secrets: credentials come from the pod's cloud identity."""
    encryption_key: str = ""
    """Key the bucket is encrypted with (a KMS key ARN), for identities that must use it."""


@dataclass(frozen=True, kw_only=True)
class ImageRepositoryHandle:
    url: str


@dataclass(frozen=True, kw_only=True)
class NetworkHandle:
    vpc_cidr: str
    """Everything inside the VPC, e.g. the load balancer's addresses."""
    database_cidrs: Sequence[str]
    """Where the metadata database lives; only PgBouncer may connect there."""


@dataclass(frozen=True, kw_only=True)
class HelmChart:
    """A Helm release the cloud needs on its cluster (the AWS Load Balancer Controller, say)."""

    name: str
    chart: str
    repository: str
    version: str
    namespace: str
    values: Mapping[str, object]


@dataclass(frozen=True, kw_only=True)
class SecretStoreHandle:
    """How the External Secrets Operator reaches the cloud's secret store."""

    provider: Mapping[str, object]
    """The ``spec.provider`` of an ESO SecretStore (``{"aws": {"service": "SecretsManager", …}}``)."""
    identity: WorkloadIdentity
    """The operator's own cloud identity: it may read exactly the secrets Airflow needs."""


@dataclass(frozen=True, kw_only=True)
class IngressHandle:
    """How the cloud exposes an HTTP service: the ingress class and the annotations it understands."""

    class_name: str
    internal_annotations: Mapping[str, str]
    """Annotations for a load balancer reachable only from inside the network."""
    public_annotations: Mapping[str, str]
    """Annotations for an internet-facing load balancer (source ranges are added by the caller)."""
    tls_annotation: str
    """The annotation that names the TLS certificate."""
    source_ranges_annotation: str


@dataclass(frozen=True, kw_only=True)
class StatsdSink:
    """Where Airflow sends StatsD metrics when an agent collects them (the Datadog Agent's DogStatsD)."""

    host: str
    port: int
    namespace: str
    pod_labels: Mapping[str, str]
    """The receiving pods, so network policies can allow exactly this flow."""


@dataclass(frozen=True, kw_only=True)
class CloudPlatform:
    """Everything the cloud-neutral layers need from one environment's cloud."""

    cluster: ClusterHandle
    identities: Mapping[str, WorkloadIdentity]
    """By workload name (``scheduler``, ``worker`` …)."""
    database: DatabaseHandle
    log_store: LogStore
    image_repository: ImageRepositoryHandle
    network: NetworkHandle
    secret_store: SecretStoreHandle
    ingress: IngressHandle
    cluster_addons: Sequence[HelmChart] = ()
    """Cloud-specific releases installed before Airflow (ingress controller …)."""
    team_identities: Mapping[str, WorkloadIdentity] = field(default_factory=dict)
    """By team name: the cloud identity of the team's task service account."""

"""What a cloud hands to the layers above it.

The cloud seam (``aws/``, ``gcp/``, ``existing/``) builds the network, cluster, identities,
database, log store and image repository, and returns these small objects. The Kubernetes
guardrails, the Airflow release and monitoring only ever see handles, never a cloud resource, so
they are the same code on every cloud. A cloud's handles are made in the platform stack and read
in the cluster stack: cdktf turns every value they carry into an output of the one and a remote
state lookup in the other.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from .placement import NodePool
from .workloads import AIRFLOW_COMPONENT_NAMES, AirflowInstance, Workload

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
class Kubeconfig:
    """A cluster reached through a kubeconfig file someone else maintains (an existing cluster)."""

    path: str
    context: str


@dataclass(frozen=True, kw_only=True)
class ClusterHandle:
    """How to reach a cluster: its endpoint, CA and an exec plugin (a cluster this stack creates), or a kubeconfig."""

    name: str
    node_pools: Sequence[NodePool]
    endpoint: str | None = None
    ca_certificate_base64: str | None = None
    """None with an endpoint whose certificate is publicly trusted (GKE's DNS-based endpoint)."""
    credentials: ExecCredentials | None = None
    kubeconfig: Kubeconfig | None = None
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
    """A query of CPU use in percent, with ``{agg}`` and ``{filter}`` in place of the space
    aggregation and the tag filter: ``{agg}:aws.rds.cpuutilization{filter}``. A template rather
    than a metric name, because clouds report some of these only as a ratio or a difference."""
    free_storage_bytes: str
    """A query of free storage in bytes (same placeholders)."""
    connections: str
    """A query of open connections (same placeholders)."""

    def query(self, template: str, agg: str, filter: str) -> str:
        """One of the templates above with its aggregation and filter (``{env:prod,database_id:…}``)."""
        return template.format(agg=agg, filter=filter)


@dataclass(frozen=True, kw_only=True)
class DatabaseHandle:
    host: str
    port: int
    database_name: str
    username: str
    credentials_secret: str
    """Where the password is kept (a Secrets Manager ARN, a Secret Manager id, a Kubernetes secret),
    as ``{"username": …, "password": …}``; never the password itself."""
    metrics: DatabaseMetrics | None
    """None where no cloud integration reports the database's metrics (an existing cluster's database)."""
    tls: str = "require"
    """PgBouncer's ``server_tls_sslmode`` towards the database (both clouds force TLS)."""
    keeps_airflow_version: bool = True
    """True: the cloud keeps, beside the database, the Airflow version it was migrated to and refuses a
    downgrade (``aws/schema_guard.py``, ``gcp/database.py``). False: the cluster stack keeps it
    (``kubernetes/schema_record.py``), for a database Flightdeck does not manage."""


@dataclass(frozen=True, kw_only=True)
class LogStore:
    bucket: str
    remote_base_log_folder: str
    """Airflow's ``[logging] remote_base_log_folder`` (``s3://bucket/airflow``)."""
    connection_id: str
    connection_uri: str | None
    """An Airflow connection without secrets: credentials come from the pod's cloud identity.
    None: the connection is provided by the cluster's owners (an existing cluster)."""
    encryption_key: str = ""
    """Key the bucket is encrypted with (a KMS key ARN), for identities that must use it."""

    def in_folder(self, folder: str) -> LogStore:
        """The same bucket, with Airflow's logs under another folder (a team's own Airflow)."""
        root = self.remote_base_log_folder.rsplit("/", 1)[0]
        return replace(self, remote_base_log_folder=f"{root}/{folder}")


@dataclass(frozen=True, kw_only=True)
class ImageRepositoryHandle:
    url: str


@dataclass(frozen=True, kw_only=True)
class CredentialEndpoint:
    """Where a pod gets its cloud identity's credentials: a node-local agent on a link-local address."""

    cidr: str
    port: int


@dataclass(frozen=True, kw_only=True)
class NetworkHandle:
    vpc_cidr: str
    """Everything inside the VPC, e.g. the load balancer's addresses."""
    database_cidrs: Sequence[str]
    """Where the metadata database lives; only PgBouncer may connect there."""
    load_balancer_cidrs: Sequence[str] = ()
    """Where the UI's load balancer connects from (its proxies and health checks); empty: the VPC."""
    workload_credentials: Sequence[CredentialEndpoint] = ()
    """The agents pods with a cloud identity fetch credentials from (the EKS Pod Identity agent, the
    GKE metadata server). Network policies open exactly these and nothing else on the link-local range."""

    @property
    def load_balancer_sources(self) -> Sequence[str]:
        return tuple(self.load_balancer_cidrs) or (self.vpc_cidr,)


@dataclass(frozen=True, kw_only=True)
class ScrapeTarget:
    """A controller's Prometheus endpoint, which the monitoring agent (where there is one) scrapes."""

    check: str
    """The agent's integration for it (``karpenter``)."""
    container: str
    """The container serving it, as the chart names it (``controller``)."""
    namespace: str
    pod_labels: Mapping[str, str]
    """Its pods (the agent's egress to them is allowed exactly)."""
    port: int
    path: str = "/metrics"
    annotations_key: str = "podAnnotations"
    """Where the chart takes pod annotations."""


@dataclass(frozen=True, kw_only=True)
class HelmChart:
    """A cluster add-on: a Helm release the cluster layers need (the AWS Load Balancer Controller, Karpenter …)."""

    name: str
    chart: str
    """The chart's name in ``repository``, or the path of one of the project's own charts."""
    repository: str | None
    """None: ``chart`` is a local path (deployed as a cdktf asset, so no CRD has to exist at plan time)."""
    version: str | None
    namespace: str
    values: Mapping[str, object]
    after: Sequence[str] = ()
    """Add-ons (by name) installed before this one: its CRDs, the controller that serves its objects."""
    skip_crds: bool = False
    """The CRDs come from another release (a chart's ``-crd`` companion, which Helm does upgrade)."""
    create_namespace: bool = False
    metrics: ScrapeTarget | None = None
    """Its controller's metrics, for the monitoring agent; None: nothing to scrape."""


@dataclass(frozen=True, kw_only=True)
class KeptSecrets:
    """Where keys generated in the cluster are kept in the cloud's secret store, so they outlive it.

    The operator pushes each generated value there once (a PushSecret that never overwrites and never
    deletes) and reads it back from there; a new cluster, namespace or operator finds the same value.
    """

    prefix: str
    """The remote name of a kept key is ``<prefix><key>`` (``flightdeck-prod/airflow/fernet-key``)."""
    push_metadata: Mapping[str, object] | None = None
    """The provider's PushSecret metadata (on AWS, the KMS key the secrets are encrypted with)."""

    def remote_key(self, key: str) -> str:
        return f"{self.prefix}{key}"


@dataclass(frozen=True, kw_only=True)
class SecretStoreHandle:
    """How the External Secrets Operator reaches the cloud's secret store."""

    provider: Mapping[str, object]
    """The ``spec.provider`` of an ESO SecretStore (``{"aws": {"service": "SecretsManager", …}}``)."""
    identity: WorkloadIdentity
    """The operator's own cloud identity: it may read exactly the secrets Airflow needs."""
    service_account: str | None = None
    """A service account created next to each store for the store to authenticate as (an in-cluster
    store reading another namespace); None: the operator's own identity is used."""
    keeps: KeptSecrets | None = None
    """Where generated keys are kept; None: the store is read-only (an existing cluster's), keys stay in the cluster."""


@dataclass(frozen=True, kw_only=True)
class IngressHandle:
    """How the cloud exposes an HTTP service: the ingress class and the annotations it understands."""

    class_name: str | None
    """The IngressClass; None where the controller is chosen by annotation instead (GKE)."""
    internal_annotations: Mapping[str, str]
    """Annotations for a load balancer reachable only from inside the network."""
    public_annotations: Mapping[str, str]
    """Annotations for an internet-facing load balancer (source ranges are added by the caller)."""
    tls_annotation: str | None
    """The annotation that names the TLS certificate; None: the certificate is a Kubernetes TLS
    secret in Airflow's namespace, named in the Ingress's ``tls`` section."""
    source_ranges_annotation: str | None
    """The annotation that limits a public load balancer's sources; None: the cloud cannot, so a
    public UI is refused by the configuration."""


@dataclass(frozen=True, kw_only=True)
class StatsdSink:
    """Where Airflow sends StatsD metrics when an agent collects them (the Datadog Agent's DogStatsD)."""

    host: str
    port: int
    namespace: str
    pod_labels: Mapping[str, str]
    """The receiving pods, so network policies can allow exactly this flow."""
    log_annotation: str | None = None
    """The pod annotation (``{container}`` in its key) that asks the same agent to collect a container's
    own log, with a JSON list of ``{"source", "service"}``; None: the agent collects no logs."""

    check_annotation: str | None = None
    """The pod annotation (``{container}`` in its key) that has the same agent run a check against a
    container, with a JSON object of the check's name and instance; None: the agent runs none."""

    def scrape_annotations(self, target: ScrapeTarget) -> dict[str, str]:
        """The annotations that have the agent scrape ``target``'s endpoint (none without checks)."""
        if self.check_annotation is None:
            return {}
        endpoint = f"http://%%host%%:{target.port}{target.path}"
        check = {target.check: {"init_config": {}, "instances": [{"openmetrics_endpoint": endpoint}]}}
        return {self.check_annotation.format(container=target.container): json.dumps(check)}

    def log_annotations(self, container: str, service: str) -> dict[str, str]:
        """The annotations that have the agent collect ``container``'s log as ``service`` (none without log collection)."""
        if self.log_annotation is None:
            return {}
        return {self.log_annotation.format(container=container): json.dumps([{"source": "airflow", "service": service}])}


@dataclass(frozen=True, kw_only=True)
class SecretsBackend:
    """Airflow's secrets backend: Connections and Variables read from the cloud's secret store, under
    one Airflow's own prefixes, which only that Airflow's identities may read."""

    classpath: str
    kwargs: Mapping[str, object]
    """Its ``backend_kwargs`` (the prefixes, the region or project)."""
    connections: str
    """Where a connection ``<id>`` is stored (``flightdeck-prod/airflow/connections/<id>``), for people."""
    variables: str


@dataclass(frozen=True, kw_only=True)
class DedicatedAirflow:
    """What the cloud made for a team's own Airflow, beside the shared one's."""

    identities: Mapping[str, WorkloadIdentity]
    """By component (``scheduler``, ``worker`` …), each bound to the instance's namespace."""
    log_store: LogStore | None
    """The environment's log bucket, under the instance's own folder, which only its identities reach."""
    keeps: KeptSecrets | None
    """Where its generated keys are kept (its own folder of the store)."""
    secrets_backend: SecretsBackend | None = None
    """Its Connections and Variables, under its own prefixes."""

    @classmethod
    def of(
        cls,
        instance: AirflowInstance,
        identities: Mapping[str, WorkloadIdentity],
        log_store: LogStore | None,
        keeps: KeptSecrets | None,
        secrets_backend: SecretsBackend | None = None,
    ) -> DedicatedAirflow:
        """From identities by workload name (``analytics-scheduler``), as a cloud's identity construct keys them."""
        by_component = {component: identities[instance.workload(component).name] for component in AIRFLOW_COMPONENT_NAMES}
        return cls(identities=by_component, log_store=log_store, keeps=keeps, secrets_backend=secrets_backend)


@dataclass(frozen=True, kw_only=True)
class CloudPlatform:
    """Everything the cloud-neutral layers need from one environment's cloud."""

    cluster: ClusterHandle
    identities: Mapping[str, WorkloadIdentity]
    """By workload name (``scheduler``, ``worker`` …)."""
    database: DatabaseHandle
    log_store: LogStore | None
    """None: no remote task logs (an existing cluster whose owners set none up)."""
    image_repository: ImageRepositoryHandle | None
    """None: the environment has no image repository of its own (an existing cluster)."""
    network: NetworkHandle
    secret_store: SecretStoreHandle
    ingress: IngressHandle
    cluster_addons: Sequence[HelmChart] = ()
    """Cloud-specific releases installed before Airflow (ingress controller …)."""
    team_identities: Mapping[str, WorkloadIdentity] = field(default_factory=dict)
    """By team name: the cloud identity of the team's task service account."""
    dedicated_airflows: Mapping[str, DedicatedAirflow] = field(default_factory=dict)
    """By team name: what the cloud made for the teams that have an Airflow of their own."""
    secrets_backend: SecretsBackend | None = None
    """The shared Airflow's Connections and Variables in the cloud's store; None: the metadata database only."""
    provisioning_failures: str | None = None
    """A Datadog query of the node provisioner's failed launches, ``{filter}`` for the tag filter
    (Karpenter's, scraped through its add-on's ``metrics``); None: no provisioner of the platform's own."""

    def for_airflow(self, instance: AirflowInstance) -> CloudPlatform:
        """These handles as one Airflow sees them: its identities, database, log folder and kept keys."""
        if instance.team is None:
            return self
        own = self.dedicated_airflows.get(instance.team)
        if own is None:
            raise ValueError(f"the cloud made nothing for team {instance.team}'s own Airflow")
        return replace(
            self,
            identities=own.identities,
            database=replace(self.database, database_name=instance.database_name(self.database.database_name)),
            log_store=own.log_store,
            secret_store=replace(self.secret_store, keeps=own.keeps),
            secrets_backend=own.secrets_backend,
            dedicated_airflows={},
        )

    def seen_from_another_stack(self) -> CloudPlatform:
        """These handles as the cluster stack uses them: without ``cluster.ready``.

        The platform stack is applied as a whole before the cluster stack plans, so nothing there
        waits on single resources of it (and Terraform cannot depend on another state's resources).
        """
        return replace(self, cluster=replace(self.cluster, ready=()))

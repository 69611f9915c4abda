"""GcpPlatform: one environment's Google Cloud foundation, returned to the stack as handles.

Composes the project's APIs, the VPC, the GKE cluster and node pools, one Google service account
per Airflow component and team, the Cloud SQL metadata database, the task-log bucket and the image
repository. The stack sets the providers and the backend.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from constructs import Construct

from ..handles import CloudPlatform, CredentialEndpoint, DedicatedAirflow, IngressHandle, NetworkHandle, SecretsBackend
from ..kubernetes.addons import DnsZoneSpec, external_dns
from ..workloads import SHARED_AIRFLOW, AirflowInstance
from .database import CloudSqlDatabase, CloudSqlDatabaseProps
from .gke import GkeCluster, GkeClusterProps
from .identity import (
    DnsIdentity,
    DnsIdentityProps,
    LogBucketAccess,
    SecretSyncIdentity,
    SecretSyncIdentityProps,
    TeamIdentities,
    TeamIdentitiesProps,
    WorkloadIdentities,
    WorkloadIdentitiesProps,
)
from .network import GcpNetwork, GcpNetworkProps
from .props import GcpPlatformProps
from .storage import ArtifactRepository, ArtifactRepositoryProps, GcsLogBucket, GcsLogBucketProps

if TYPE_CHECKING:
    from cdktf_cdktf_provider_google.project_service import ProjectService

PROJECT_APIS = (
    "compute",
    "container",
    "sqladmin",
    "servicenetworking",
    "secretmanager",
    "artifactregistry",
    "cloudkms",
    "iam",
    # Workload Identity exchanges a pod's Kubernetes token for a Google access token through it.
    "iamcredentials",
)
"""The Google APIs this environment's resources are created through."""

GKE_METADATA_SERVER = (
    CredentialEndpoint(cidr="169.254.169.254/32", port=80),
    # Where the node forwards those requests to GKE's metadata server (the address policies may see under Dataplane V2).
    CredentialEndpoint(cidr="169.254.169.252/32", port=988),
)
"""Workload Identity: pods get their Google service account's tokens from GKE's metadata server."""

GOOGLE_HEALTH_CHECK_RANGES = ("35.191.0.0/16", "130.211.0.0/22")
"""Where Google's load balancer health checks come from."""

INGRESS = IngressHandle(
    # The GKE ingress controller is picked by the (deprecated but still only) class annotation.
    class_name=None,
    internal_annotations={"kubernetes.io/ingress.class": "gce-internal"},
    public_annotations={"kubernetes.io/ingress.class": "gce"},
    tls_annotation="ingress.gcp.kubernetes.io/pre-shared-cert",
    # GKE Ingress has no source-range annotation (Cloud Armor would do it), so a public UI is refused.
    source_ranges_annotation=None,
)


class GcpPlatform(Construct):
    def __init__(self, scope: Construct, id: str, props: GcpPlatformProps) -> None:
        super().__init__(scope, id)
        from cdktf_cdktf_provider_google.project_service import ProjectService

        labels = dict(props.labels)

        apis = [
            ProjectService(
                self,
                f"api-{api}",
                project=props.project_id,
                service=f"{api}.googleapis.com",
                # Other environments and people use the project too: destroying one environment leaves the APIs on.
                disable_on_destroy=False,
            )
            for api in PROJECT_APIS
        ]

        network = GcpNetwork(
            self,
            "network",
            GcpNetworkProps(
                name=props.name,
                project_id=props.project_id,
                region=props.region,
                cidr=props.network.cidr,
                flow_logs=props.network.flow_logs,
            ),
        )
        layout = network.layout
        cluster = GkeCluster(
            self,
            "gke",
            GkeClusterProps(
                name=props.name,
                project_id=props.project_id,
                region=props.region,
                zones=props.zones,
                settings=props.cluster,
                network_id=network.network.id,
                subnetwork_id=network.nodes_subnet.id,
                layout=layout,
                labels=labels,
                intranode_visibility=props.network.flow_logs,
            ),
        )
        logs = GcsLogBucket(
            self,
            "task-logs",
            GcsLogBucketProps(
                name=props.log_bucket_name,
                project_id=props.project_id,
                region=props.region,
                expire_after_days=props.log_expire_after_days,
            ),
        )
        images = ArtifactRepository(
            self,
            "images",
            ArtifactRepositoryProps(
                name=props.image_repository_name,
                project_id=props.project_id,
                region=props.region,
                readers={"nodes": cluster.node_service_account.member},
                keep_untagged_days=props.image_keep_untagged_days,
            ),
        )
        workload_pool_ready = [cluster.cluster]
        backends = {
            instance: secrets_backend(props.name, instance, props.project_id) for instance in (SHARED_AIRFLOW, *props.dedicated_airflows)
        }
        # One set of service accounts per Airflow, bound to its namespace, reaching only its log folder and
        # its secrets backend's prefixes: the shared one's (``workload-identities``), then each team's own.
        identity_sets = {
            instance: WorkloadIdentities(
                self,
                "workload-identities" if instance.team is None else f"{instance.namespace}-identities",
                WorkloadIdentitiesProps(
                    name_prefix=props.name,
                    project_id=props.project_id,
                    workloads=props.workloads if instance.team is None else instance.workloads,
                    task_logs=LogBucketAccess(bucket=logs.bucket.name, prefix=f"{instance.folder}/"),
                    workload_pool_ready=workload_pool_ready,
                    readable_secret_prefixes=backend_prefixes(backends[instance]),
                    project_number=cluster.project_number,
                ),
            )
            for instance in backends
        }
        identities = identity_sets[SHARED_AIRFLOW]
        dedicated_identities = {instance: own for instance, own in identity_sets.items() if instance.team is not None}
        teams = TeamIdentities(
            self,
            "team-identities",
            TeamIdentitiesProps(
                name_prefix=props.name,
                project_id=props.project_id,
                teams=props.teams,
                workload_pool_ready=workload_pool_ready,
            ),
        )
        database = CloudSqlDatabase(
            self,
            "database",
            CloudSqlDatabaseProps(
                name=props.name,
                project_id=props.project_id,
                region=props.region,
                settings=props.database,
                network_id=network.network.id,
                allocated_ip_range=network.database_range.name,
                private_cidr=layout.database,
                service_networking=network.service_networking,
                labels=labels,
            ),
        )
        secret_sync = SecretSyncIdentity(
            self,
            "secret-sync",
            SecretSyncIdentityProps(
                name_prefix=props.name,
                project_id=props.project_id,
                database_secret_id=database.secret.secret_id,
                readable_secret_names=props.readable_secret_names,
                workload_pool_ready=workload_pool_ready,
                project_number=cluster.project_number,
            ),
        )
        dns = (
            DnsIdentity(
                self,
                "external-dns",
                DnsIdentityProps(
                    name_prefix=props.name,
                    project_id=props.project_id,
                    managed_zone=props.dns_zone.name,
                    workload_pool_ready=workload_pool_ready,
                ),
            )
            if props.dns_zone is not None
            else None
        )
        _after_apis(self, apis)

        self.network = network
        self.gke = cluster
        self.workload_identities = identities
        self.database = database
        self.platform = CloudPlatform(
            cluster=cluster.handle,
            identities=identities.identities,
            database=database.handle,
            log_store=logs.handle,
            image_repository=images.handle,
            network=NetworkHandle(
                vpc_cidr=layout.cidr,
                database_cidrs=[layout.database],
                # The internal load balancer's proxies connect to the pods from the proxy-only subnet.
                load_balancer_cidrs=(layout.proxy_only, *GOOGLE_HEALTH_CHECK_RANGES),
                workload_credentials=GKE_METADATA_SERVER,
            ),
            secret_store=secret_sync.secret_store,
            ingress=INGRESS,
            cluster_addons=(
                (
                    external_dns(
                        DnsZoneSpec(
                            domain=props.dns_zone.domain,
                            owner=props.dns_zone.owner,
                            provider={"name": "google"},
                            args=[f"--google-project={props.project_id}", "--google-zone-visibility=private"],
                            identity=dns.identity,
                        )
                    ),
                )
                if dns is not None and props.dns_zone is not None
                else ()
            ),
            team_identities=teams.identities,
            secrets_backend=backends[SHARED_AIRFLOW],
            dedicated_airflows={
                str(instance.team): DedicatedAirflow.of(
                    instance,
                    own.identities,
                    logs.handle.in_folder(instance.folder),
                    # Under the operator's own prefix (<name>-airflow-), which its conditioned grant already covers.
                    replace(keeps, prefix=f"{props.name}-{instance.folder}-") if (keeps := secret_sync.secret_store.keeps) else None,
                    backends[instance],
                )
                for instance, own in dedicated_identities.items()
            },
        )


SECRET_MANAGER_BACKEND = "airflow.providers.google.cloud.secrets.secret_manager.CloudSecretManagerBackend"


def secrets_backend(name: str, instance: AirflowInstance, project_id: str) -> SecretsBackend:
    """An Airflow's Connections and Variables in Secret Manager: ``<name>-<folder>-connections-<id>`` and
    ``…-variables-<key>`` (Secret Manager ids have no folders: ``sep`` is ``-``)."""
    connections, variables = f"{name}-{instance.folder}-connections", f"{name}-{instance.folder}-variables"
    return SecretsBackend(
        classpath=SECRET_MANAGER_BACKEND,
        kwargs={"connections_prefix": connections, "variables_prefix": variables, "sep": "-", "project_id": project_id},
        connections=f"{connections}-<conn_id>",
        variables=f"{variables}-<key>",
    )


def backend_prefixes(backend: SecretsBackend) -> list[str]:
    """The secret id prefixes an Airflow's identities may read: exactly its backend's two."""
    return [f"{backend.kwargs[key]}-" for key in ("connections_prefix", "variables_prefix")]


def _after_apis(scope: Construct, apis: Sequence[ProjectService]) -> None:
    """Make every Google resource under ``scope`` wait for the project's APIs: on a fresh project the
    first create would otherwise fail with "API not enabled"."""
    from cdktf import TerraformResource

    # Plain addresses: depends_on takes references, not the ``${…}`` interpolations ``fqn`` renders as.
    addresses = [f"{api.terraform_resource_type}.{api.friendly_unique_id}" for api in apis]
    for node in scope.node.find_all():
        if (
            isinstance(node, TerraformResource)
            and node.terraform_resource_type.startswith("google_")
            and node.terraform_resource_type != "google_project_service"
        ):
            node.depends_on = [*(node.depends_on or []), *addresses]

"""The GKE cluster: private nodes, Dataplane V2, Workload Identity, secrets encrypted with a KMS key,
and one autoscaled node pool per ``GkeNodePoolSpec``.

The nodes run as a dedicated service account that may only write logs and metrics (and pull images,
granted on the repository), never as the project's Compute Engine default account with its Editor role.
"""

from __future__ import annotations

import ipaddress
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from constructs import Construct

from ..handles import ClusterHandle, ExecCredentials
from .identity import service_account_id
from .labels import gcp_labels
from .network import PODS_RANGE, SERVICES_RANGE, GcpNetworkLayout
from .props import GkeNodePoolSpec, GkeSettings

if TYPE_CHECKING:
    from cdktf import ITerraformDependable

RELEASE_CHANNELS = ("RAPID", "REGULAR", "STABLE", "EXTENDED")
NODE_ROLES = (
    "roles/logging.logWriter",
    "roles/monitoring.metricWriter",
    "roles/monitoring.viewer",
    "roles/stackdriver.resourceMetadata.writer",
    "roles/autoscaling.metricsWriter",
)
"""What a node needs for itself: ship logs and metrics, report its metadata, feed the autoscaler."""
CLOUD_PLATFORM_SCOPE = "https://www.googleapis.com/auth/cloud-platform"
KEY_ROTATION = "7776000s"
"""90 days."""


def initial_nodes_per_zone(total: int, zones: int) -> int:
    """GKE counts a pool's initial size per zone; the configuration counts it across zones (rounded up)."""
    return math.ceil(total / zones)


@dataclass(frozen=True, kw_only=True)
class GkeClusterProps:
    name: str
    """The cluster's name, and the prefix of its key ring and node service account."""
    project_id: str
    region: str
    zones: Sequence[str]
    """Node zones of a regional cluster; a zonal cluster lives in the first."""
    settings: GkeSettings
    network_id: str
    subnetwork_id: str
    layout: GcpNetworkLayout
    """The pods' and services' secondary ranges are named ``pods`` and ``services``; the control plane
    takes ``layout.control_plane``; the whole VPC may reach the API server."""
    labels: Mapping[str, str]
    """GCP labels of the cluster and of the nodes of pools that name none of their own."""
    intranode_visibility: bool = False
    """True: traffic between pods on the same node also goes through the VPC, so flow logs see it
    (worth its extra hop only where flow logs are on)."""

    def __post_init__(self) -> None:
        _validate(self)


class GkeCluster(Construct):
    def __init__(self, scope: Construct, id: str, props: GkeClusterProps) -> None:
        super().__init__(scope, id)
        from cdktf import TerraformResourceLifecycle
        from cdktf_cdktf_provider_google.container_cluster import (
            ContainerCluster,
            ContainerClusterAddonsConfig,
            ContainerClusterAddonsConfigHttpLoadBalancing,
            ContainerClusterAddonsConfigNetworkPolicyConfig,
            ContainerClusterControlPlaneEndpointsConfig,
            ContainerClusterControlPlaneEndpointsConfigDnsEndpointConfig,
            ContainerClusterDatabaseEncryption,
            ContainerClusterIpAllocationPolicy,
            ContainerClusterLoggingConfig,
            ContainerClusterMaintenancePolicy,
            ContainerClusterMaintenancePolicyRecurringWindow,
            ContainerClusterMasterAuth,
            ContainerClusterMasterAuthClientCertificateConfig,
            ContainerClusterMasterAuthorizedNetworksConfig,
            ContainerClusterMasterAuthorizedNetworksConfigCidrBlocks,
            ContainerClusterMonitoringConfig,
            ContainerClusterNetworkPolicy,
            ContainerClusterNodeConfig,
            ContainerClusterNodeConfigShieldedInstanceConfig,
            ContainerClusterNodeConfigWorkloadMetadataConfig,
            ContainerClusterPrivateClusterConfig,
            ContainerClusterPrivateClusterConfigMasterGlobalAccessConfig,
            ContainerClusterReleaseChannel,
            ContainerClusterWorkloadIdentityConfig,
        )
        from cdktf_cdktf_provider_google.data_google_project import DataGoogleProject
        from cdktf_cdktf_provider_google.kms_crypto_key import KmsCryptoKey
        from cdktf_cdktf_provider_google.kms_crypto_key_iam_member import KmsCryptoKeyIamMember
        from cdktf_cdktf_provider_google.kms_key_ring import KmsKeyRing
        from cdktf_cdktf_provider_google.project_iam_member import ProjectIamMember
        from cdktf_cdktf_provider_google.service_account import ServiceAccount

        settings = props.settings
        location = props.region if settings.regional else props.zones[0]
        zone_count = len(props.zones) if settings.regional else 1

        project = DataGoogleProject(self, "project", project_id=props.project_id)
        self.project_number = project.number
        """The project's number, looked up once: IAM conditions on Secret Manager name secrets by it."""
        # Kubernetes secrets are encrypted in etcd with this key (application-layer secrets encryption).
        # Google never deletes a key ring: after a destroy, re-creating the environment under the same
        # name needs the ring imported (terraform import) rather than created.
        key_ring = KmsKeyRing(self, "key-ring", name=f"{props.name}-gke", location=props.region, project=props.project_id)
        self.key = KmsCryptoKey(
            self,
            "secrets-key",
            name="kubernetes-secrets",
            key_ring=key_ring.id,
            rotation_period=KEY_ROTATION,
            # Losing the key loses every Kubernetes secret; Terraform refuses to plan its destruction
            # wherever deleting the cluster is refused.
            lifecycle=TerraformResourceLifecycle(prevent_destroy=settings.deletion_protection),
        )
        key_access = KmsCryptoKeyIamMember(
            self,
            "secrets-key-gke-agent",
            crypto_key_id=self.key.id,
            role="roles/cloudkms.cryptoKeyEncrypterDecrypter",
            member=f"serviceAccount:service-{project.number}@container-engine-robot.iam.gserviceaccount.com",
        )

        self.node_service_account = ServiceAccount(
            self,
            "node-sa",
            account_id=service_account_id(f"{props.name}-nodes"),
            project=props.project_id,
            display_name=f"{props.name} GKE nodes",
            description="GKE nodes: write logs and metrics, pull images; workloads use their own accounts",
        )
        node_roles = [
            ProjectIamMember(
                self,
                f"node-sa-{role.removeprefix('roles/')}",
                project=props.project_id,
                role=role,
                member=self.node_service_account.member,
            )
            for role in NODE_ROLES
        ]

        authorized = [props.layout.cidr, *settings.master_authorized_cidrs]
        self.cluster = ContainerCluster(
            self,
            "cluster",
            name=props.name,
            project=props.project_id,
            location=location,
            node_locations=list(props.zones) if settings.regional else None,
            network=props.network_id,
            subnetwork=props.subnetwork_id,
            networking_mode="VPC_NATIVE",
            ip_allocation_policy=ContainerClusterIpAllocationPolicy(
                cluster_secondary_range_name=PODS_RANGE,
                services_secondary_range_name=SERVICES_RANGE,
            ),
            # Node pools are separate resources, so changing one never touches the cluster.
            remove_default_node_pool=True,
            initial_node_count=1,
            # The default pool lives for minutes, but it is created like the others: no default Compute
            # Engine account, shielded, metadata server hidden. GKE reports the first remaining pool's
            # settings here afterwards, so later differences are ignored.
            node_config=ContainerClusterNodeConfig(
                service_account=self.node_service_account.email,
                oauth_scopes=[CLOUD_PLATFORM_SCOPE],
                image_type="COS_CONTAINERD",
                shielded_instance_config=ContainerClusterNodeConfigShieldedInstanceConfig(
                    enable_secure_boot=True, enable_integrity_monitoring=True
                ),
                workload_metadata_config=ContainerClusterNodeConfigWorkloadMetadataConfig(mode="GKE_METADATA"),
                metadata={"disable-legacy-endpoints": "true"},
                resource_labels=dict(props.labels),
            ),
            lifecycle=TerraformResourceLifecycle(ignore_changes=["node_config"]),
            private_cluster_config=ContainerClusterPrivateClusterConfig(
                enable_private_nodes=True,
                enable_private_endpoint=settings.private_endpoint,
                master_ipv4_cidr_block=props.layout.control_plane,
                # The private endpoint answers from every region of the VPC (a runner or VPN elsewhere).
                master_global_access_config=ContainerClusterPrivateClusterConfigMasterGlobalAccessConfig(enabled=True),
            ),
            # The DNS-based endpoint is how Terraform (CI on GitHub's runners, a workstation) reaches the
            # API server: Google fronts it, and only IAM principals with container.clusters.connect get
            # through. The IP endpoints stay private (or limited to master authorized networks).
            control_plane_endpoints_config=ContainerClusterControlPlaneEndpointsConfig(
                dns_endpoint_config=ContainerClusterControlPlaneEndpointsConfigDnsEndpointConfig(allow_external_traffic=True)
            ),
            master_authorized_networks_config=ContainerClusterMasterAuthorizedNetworksConfig(
                cidr_blocks=[
                    ContainerClusterMasterAuthorizedNetworksConfigCidrBlocks(
                        cidr_block=cidr, display_name="vpc" if index == 0 else f"authorized-{index}"
                    )
                    for index, cidr in enumerate(authorized)
                ],
                # Being on Google Cloud is no reason to reach the API server.
                gcp_public_cidrs_access_enabled=False,
            ),
            workload_identity_config=ContainerClusterWorkloadIdentityConfig(workload_pool=f"{props.project_id}.svc.id.goog"),
            # Dataplane V2 (Cilium) enforces NetworkPolicy itself; the Calico add-on stays off.
            datapath_provider="ADVANCED_DATAPATH",
            network_policy=ContainerClusterNetworkPolicy(enabled=False),
            enable_intranode_visibility=props.intranode_visibility,
            enable_shielded_nodes=True,
            release_channel=ContainerClusterReleaseChannel(channel=settings.release_channel),
            min_master_version=settings.kubernetes_version,
            database_encryption=ContainerClusterDatabaseEncryption(state="ENCRYPTED", key_name=self.key.id),
            deletion_protection=settings.deletion_protection,
            logging_config=ContainerClusterLoggingConfig(enable_components=["SYSTEM_COMPONENTS", "WORKLOADS"]),
            monitoring_config=ContainerClusterMonitoringConfig(enable_components=["SYSTEM_COMPONENTS"]),
            maintenance_policy=ContainerClusterMaintenancePolicy(
                # Weekends 02:00-08:00 UTC: upgrades land outside working hours, and 12 hours a week
                # meets GKE's minimum of 48 hours of maintenance availability in 32 days.
                recurring_window=ContainerClusterMaintenancePolicyRecurringWindow(
                    start_time="2025-01-04T02:00:00Z",
                    end_time="2025-01-04T08:00:00Z",
                    recurrence="FREQ=WEEKLY;BYDAY=SA,SU",
                ),
            ),
            # Only IAM (through gke-gcloud-auth-plugin) authenticates: no client certificate, no legacy ABAC.
            master_auth=ContainerClusterMasterAuth(
                client_certificate_config=ContainerClusterMasterAuthClientCertificateConfig(issue_client_certificate=False)
            ),
            enable_legacy_abac=False,
            addons_config=ContainerClusterAddonsConfig(
                # The GKE ingress controller turns the Airflow UI's Ingress into a Google load balancer.
                http_load_balancing=ContainerClusterAddonsConfigHttpLoadBalancing(disabled=False),
                network_policy_config=ContainerClusterAddonsConfigNetworkPolicyConfig(disabled=True),
            ),
            resource_labels=dict(props.labels),
            # The GKE service agent must be able to use the key before the cluster encrypts with it.
            depends_on=[key_access],
        )

        self.node_pools = [
            self._node_pool(spec, props, zone_count, depends_on=node_roles) for spec in settings.node_pools
        ]

        flag = "--region" if settings.regional else "--zone"
        connect = f"gcloud container clusters get-credentials {props.name} {flag} {location} --project {props.project_id}"
        self.handle = ClusterHandle(
            name=props.name,
            endpoint=f"https://{self.cluster.control_plane_endpoints_config.dns_endpoint_config.endpoint}",
            # The DNS endpoint's certificate is publicly trusted: no cluster CA.
            ca_certificate_base64=None,
            credentials=ExecCredentials(
                api_version="client.authentication.k8s.io/v1beta1",
                command="gke-gcloud-auth-plugin",
                args=(),
            ),
            node_pools=[spec.pool for spec in settings.node_pools],
            ready=list(self.node_pools),
            connect_command=connect + " --dns-endpoint",
        )

    def _node_pool(
        self, spec: GkeNodePoolSpec, props: GkeClusterProps, zone_count: int, depends_on: Sequence[ITerraformDependable]
    ) -> ITerraformDependable:
        from cdktf import TerraformResourceLifecycle
        from cdktf_cdktf_provider_google.container_node_pool import (
            ContainerNodePool,
            ContainerNodePoolAutoscaling,
            ContainerNodePoolManagement,
            ContainerNodePoolNodeConfig,
            ContainerNodePoolNodeConfigShieldedInstanceConfig,
            ContainerNodePoolNodeConfigTaint,
            ContainerNodePoolNodeConfigWorkloadMetadataConfig,
            ContainerNodePoolUpgradeSettings,
        )

        pool = spec.pool
        return ContainerNodePool(
            self,
            f"pool-{pool.name}",
            name=pool.name,
            project=props.project_id,
            cluster=self.cluster.id,
            location=self.cluster.location,
            initial_node_count=initial_nodes_per_zone(spec.initial_nodes, zone_count),
            # The autoscaler owns the size once the pool exists; a changed initial size would otherwise
            # replace the whole pool.
            lifecycle=TerraformResourceLifecycle(ignore_changes=["initial_node_count"]),
            autoscaling=ContainerNodePoolAutoscaling(
                total_min_node_count=spec.min_nodes,
                total_max_node_count=spec.max_nodes,
                location_policy="BALANCED",
            ),
            management=ContainerNodePoolManagement(auto_repair=True, auto_upgrade=True),
            # One extra node at a time and none taken away first: capacity never drops during an upgrade.
            upgrade_settings=ContainerNodePoolUpgradeSettings(strategy="SURGE", max_surge=1, max_unavailable=0),
            node_config=ContainerNodePoolNodeConfig(
                machine_type=spec.machine_type,
                disk_size_gb=spec.disk_size_gib,
                disk_type="pd-balanced",
                image_type="COS_CONTAINERD",
                spot=spec.spot,
                service_account=self.node_service_account.email,
                # Access is decided by IAM, not by the legacy scopes.
                oauth_scopes=[CLOUD_PLATFORM_SCOPE],
                labels=dict(pool.labels),
                # GKE spells taint effects like EKS does (NO_SCHEDULE).
                taint=[
                    ContainerNodePoolNodeConfigTaint(key=taint.key, value=taint.value, effect=taint.api_effect)
                    for taint in pool.taints
                ]
                or None,
                shielded_instance_config=ContainerNodePoolNodeConfigShieldedInstanceConfig(
                    enable_secure_boot=True, enable_integrity_monitoring=True
                ),
                # Pods see the GKE metadata server (Workload Identity), never the node's own credentials.
                workload_metadata_config=ContainerNodePoolNodeConfigWorkloadMetadataConfig(mode="GKE_METADATA"),
                metadata={"disable-legacy-endpoints": "true"},
                resource_labels=gcp_labels(spec.labels) if spec.labels is not None else dict(props.labels),
            ),
            depends_on=list(depends_on),
        )


def _validate(props: GkeClusterProps) -> None:
    settings = props.settings
    if not props.zones:
        raise ValueError(f"cluster {props.name}: no zones given; list the zones of {props.region} the nodes run in")
    foreign = [zone for zone in props.zones if not zone.startswith(f"{props.region}-")]
    if foreign:
        raise ValueError(f"cluster {props.name}: zones {', '.join(foreign)} are not in region {props.region}")
    if settings.release_channel not in RELEASE_CHANNELS:
        raise ValueError(
            f"cluster {props.name}: release channel {settings.release_channel!r} is not one of {', '.join(RELEASE_CHANNELS)}"
        )
    if not settings.node_pools:
        raise ValueError(f"cluster {props.name}: no node pools; the system pool at least is needed")
    names = [spec.pool.name for spec in settings.node_pools]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise ValueError(f"cluster {props.name}: node pool names {', '.join(duplicates)} are used twice")
    for spec in settings.node_pools:
        if not 0 <= spec.min_nodes <= spec.initial_nodes <= spec.max_nodes or spec.max_nodes < 1:
            raise ValueError(
                f"node pool {spec.pool.name}: sizes must satisfy 0 <= min ({spec.min_nodes}) <= initial "
                f"({spec.initial_nodes}) <= max ({spec.max_nodes}), with max at least 1"
            )
    for cidr in settings.master_authorized_cidrs:
        try:
            network = ipaddress.ip_network(cidr)
        except ValueError as error:
            raise ValueError(f"cluster {props.name}: master authorized cidr {cidr!r} is not a network ({error})") from None
        # With only a private endpoint, GKE accepts internal ranges only: a public one would never match.
        if settings.private_endpoint and network.is_global:
            raise ValueError(
                f"cluster {props.name}: {cidr} is a public range, but the API server has only a private endpoint; "
                "allow public access to the endpoint or list internal ranges only"
            )

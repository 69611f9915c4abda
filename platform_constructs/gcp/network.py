"""The environment's VPC: one subnet for the nodes with secondary ranges for pods and services,
the proxy-only subnet of the internal load balancer, Cloud NAT, and the range Cloud SQL peers into.

Layout of the VPC range (a /16 shown; /17 to /20 scale down the same way):

* the first half is the pods' secondary range (a /17): with VPC-native networking every pod takes
  an address from it, and GKE hands each node a block of it, so it gets most of the space;
* the second half is cut into sixteenths of the whole (/20 each): the nodes subnet, the services'
  secondary range and Cloud SQL's private-services-access range, then one sixteenth shared by the
  proxy-only subnet (a /23) and the control plane's /28 right after it. The rest is left free.

Only the nodes subnet reaches the internet, through Cloud NAT; nodes have no public address. One
firewall rule lets the internal load balancer's proxies in; GKE adds its own for its control plane,
health checks and pod-to-pod traffic.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from constructs import Construct

MIN_PREFIX = 16
MAX_PREFIX = 20
PROXY_ONLY_MAX_PREFIX = 26
"""Google's floor for a proxy-only subnet (64 addresses: at most 64 load balancer proxies)."""
DATABASE_MAX_PREFIX = 24
"""Google's floor for a private-services-access range."""
CONTROL_PLANE_PREFIX = 28
"""GKE requires exactly a /28 for a private cluster's control plane."""

PODS_RANGE = "pods"
SERVICES_RANGE = "services"


@dataclass(frozen=True, kw_only=True)
class GcpNetworkLayout:
    """Where each part of the network lives inside the VPC range (pure, so it is unit-tested)."""

    cidr: str
    pods: str
    nodes: str
    services: str
    database: str
    """Cloud SQL's private-services-access range (reserved, peered to Google's producer network)."""
    proxy_only: str
    """The internal HTTP(S) load balancer's proxies connect to the pods from here."""
    control_plane: str

    @classmethod
    def of(cls, cidr: str) -> GcpNetworkLayout:
        try:
            network = ipaddress.IPv4Network(cidr)
        except ValueError as error:
            raise ValueError(f"network cidr {cidr!r} is not an IPv4 network with its host bits zero ({error})") from None
        if not MIN_PREFIX <= network.prefixlen <= MAX_PREFIX:
            raise ValueError(
                f"network cidr {cidr} is a /{network.prefixlen}; a GKE environment needs a /{MIN_PREFIX} to /{MAX_PREFIX} "
                "(half of it is the pods' range)"
            )
        prefix = network.prefixlen
        halves = list(network.subnets(new_prefix=prefix + 1))
        sixteenths = list(halves[1].subnets(new_prefix=prefix + 4))
        proxy_only = next(sixteenths[3].subnets(new_prefix=min(prefix + 7, PROXY_ONLY_MAX_PREFIX)))
        control_plane = ipaddress.IPv4Network(f"{proxy_only.broadcast_address + 1}/{CONTROL_PLANE_PREFIX}")
        layout = cls(
            cidr=str(network),
            pods=str(halves[0]),
            nodes=str(sixteenths[0]),
            services=str(sixteenths[1]),
            database=str(sixteenths[2]),
            proxy_only=str(proxy_only),
            control_plane=str(control_plane),
        )
        layout._check()
        return layout

    def ranges(self) -> dict[str, str]:
        """Every carved range by its role."""
        return {
            "pods": self.pods,
            "nodes": self.nodes,
            "services": self.services,
            "database": self.database,
            "proxy_only": self.proxy_only,
            "control_plane": self.control_plane,
        }

    def _check(self) -> None:
        network = ipaddress.IPv4Network(self.cidr)
        ranges = {role: ipaddress.IPv4Network(cidr) for role, cidr in self.ranges().items()}
        for role, subnet in ranges.items():
            if not subnet.subnet_of(network):
                raise ValueError(f"the {role} range {subnet} is not inside the network cidr {self.cidr}")
        roles = list(ranges)
        for i, first in enumerate(roles):
            for second in roles[i + 1 :]:
                if ranges[first].overlaps(ranges[second]):
                    raise ValueError(f"the {first} range {ranges[first]} overlaps the {second} range {ranges[second]}")
        if ranges["database"].prefixlen > DATABASE_MAX_PREFIX:
            raise ValueError(f"Cloud SQL's range {self.database} is smaller than the /{DATABASE_MAX_PREFIX} Google requires")
        if ranges["proxy_only"].prefixlen > PROXY_ONLY_MAX_PREFIX:
            raise ValueError(f"the proxy-only subnet {self.proxy_only} is smaller than the /{PROXY_ONLY_MAX_PREFIX} Google requires")
        if ranges["control_plane"].prefixlen != CONTROL_PLANE_PREFIX:
            raise ValueError(f"the control plane range {self.control_plane} must be a /{CONTROL_PLANE_PREFIX}")


@dataclass(frozen=True, kw_only=True)
class GcpNetworkProps:
    name: str
    """Prefix of the network's resource names (``flightdeck-prod``)."""
    project_id: str
    region: str
    cidr: str
    """The VPC range, carved as ``GcpNetworkLayout.of`` describes."""
    flow_logs: bool = False
    """True: the nodes subnet logs half of its flows (5-minute aggregation, all metadata) to Cloud Logging."""


class GcpNetwork(Construct):
    def __init__(self, scope: Construct, id: str, props: GcpNetworkProps) -> None:
        super().__init__(scope, id)
        from cdktf_cdktf_provider_google.compute_firewall import ComputeFirewall, ComputeFirewallAllow, ComputeFirewallLogConfig
        from cdktf_cdktf_provider_google.compute_global_address import ComputeGlobalAddress
        from cdktf_cdktf_provider_google.compute_network import ComputeNetwork
        from cdktf_cdktf_provider_google.compute_router import ComputeRouter
        from cdktf_cdktf_provider_google.compute_router_nat import (
            ComputeRouterNat,
            ComputeRouterNatLogConfig,
            ComputeRouterNatSubnetwork,
        )
        from cdktf_cdktf_provider_google.compute_subnetwork import (
            ComputeSubnetwork,
            ComputeSubnetworkLogConfig,
            ComputeSubnetworkSecondaryIpRange,
        )
        from cdktf_cdktf_provider_google.service_networking_connection import ServiceNetworkingConnection

        self.layout = GcpNetworkLayout.of(props.cidr)
        layout = self.layout
        database = ipaddress.IPv4Network(layout.database)

        self.network = ComputeNetwork(
            self,
            "network",
            name=props.name,
            project=props.project_id,
            # Every subnet is declared here; auto mode would add a /20 in every region.
            auto_create_subnetworks=False,
            routing_mode="REGIONAL",
        )
        self.nodes_subnet = ComputeSubnetwork(
            self,
            "nodes",
            name=f"{props.name}-nodes",
            project=props.project_id,
            region=props.region,
            network=self.network.id,
            ip_cidr_range=layout.nodes,
            secondary_ip_range=[
                ComputeSubnetworkSecondaryIpRange(range_name=PODS_RANGE, ip_cidr_range=layout.pods),
                ComputeSubnetworkSecondaryIpRange(range_name=SERVICES_RANGE, ip_cidr_range=layout.services),
            ],
            # Nodes have no public address: Google APIs (Artifact Registry, GCS, Secret Manager) are reached privately.
            private_ip_google_access=True,
            log_config=ComputeSubnetworkLogConfig(
                aggregation_interval="INTERVAL_5_MIN",
                flow_sampling=0.5,
                metadata="INCLUDE_ALL_METADATA",
            )
            if props.flow_logs
            else None,
        )
        # The GKE ingress controller's internal HTTP(S) load balancer (gce-internal) runs its proxies here;
        # Google refuses to create such a load balancer in a region without an active proxy-only subnet.
        self.proxy_only_subnet = ComputeSubnetwork(
            self,
            "proxy-only",
            name=f"{props.name}-proxy-only",
            project=props.project_id,
            region=props.region,
            network=self.network.id,
            ip_cidr_range=layout.proxy_only,
            purpose="REGIONAL_MANAGED_PROXY",
            role="ACTIVE",
        )
        # The proxies reach the UI's pods directly (container-native load balancing, NEGs), on whatever port
        # the Service targets; the pods' network policies decide which of them accept the connection.
        ComputeFirewall(
            self,
            "allow-proxy-only",
            name=f"{props.name}-allow-proxy-only",
            project=props.project_id,
            network=self.network.id,
            description="Internal HTTP(S) load balancer proxies to the pods they serve",
            direction="INGRESS",
            source_ranges=[layout.proxy_only],
            allow=[ComputeFirewallAllow(protocol="tcp")],
            log_config=ComputeFirewallLogConfig(metadata="INCLUDE_ALL_METADATA") if props.flow_logs else None,
        )
        router = ComputeRouter(
            self,
            "router",
            name=f"{props.name}-router",
            project=props.project_id,
            region=props.region,
            network=self.network.id,
        )
        ComputeRouterNat(
            self,
            "nat",
            name=f"{props.name}-nat",
            project=props.project_id,
            region=props.region,
            router=router.name,
            nat_ip_allocate_option="AUTO_ONLY",
            # Only the nodes subnet (with its pod range) goes out; nothing else in the VPC gets a path to the internet.
            source_subnetwork_ip_ranges_to_nat="LIST_OF_SUBNETWORKS",
            subnetwork=[
                ComputeRouterNatSubnetwork(name=self.nodes_subnet.id, source_ip_ranges_to_nat=["ALL_IP_RANGES"]),
            ],
            log_config=ComputeRouterNatLogConfig(enable=True, filter="ERRORS_ONLY"),
        )
        self.database_range = ComputeGlobalAddress(
            self,
            "database-range",
            name=f"{props.name}-cloud-sql",
            project=props.project_id,
            network=self.network.id,
            purpose="VPC_PEERING",
            address_type="INTERNAL",
            address=str(database.network_address),
            prefix_length=database.prefixlen,
        )
        self.service_networking = ServiceNetworkingConnection(
            self,
            "service-networking",
            network=self.network.id,
            service="servicenetworking.googleapis.com",
            reserved_peering_ranges=[self.database_range.name],
            # Cloud SQL lets go of the peering only days after its instance is deleted, so deleting the
            # connection in the same destroy fails; abandoning it lets the network (and the peering) go.
            deletion_policy="ABANDON",
        )

"""The environment's VPC: public, private and database subnets in each availability zone.

Layout of the VPC block (a /16 shown; smaller blocks scale down the same way):

* the first quarters hold one private subnet per zone (a /18 each): nodes and, with the VPC CNI,
  every pod takes an address from these, so they get most of the space;
* the last quarter is cut into eighths: public subnets (load balancers, NAT gateways) in the first
  eighths, database subnets from the fifth eighth on.

Private subnets reach the internet through NAT (one gateway per zone, or a single one); database
subnets have no route out at all.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Literal

from constructs import Construct

from .iam import allow, policy, service_trust
from .kms import KmsKeyHandle

MAX_ZONES = 3


@dataclass(frozen=True)
class SubnetLayout:
    public: tuple[str, ...]
    private: tuple[str, ...]
    database: tuple[str, ...]


def subnet_layout(cidr: str, zones: int) -> SubnetLayout:
    """Carve ``cidr`` into per-zone subnets (pure, so it is unit-tested without synthesizing)."""
    if not 1 <= zones <= MAX_ZONES:
        raise ValueError(f"a VPC spans 1 to {MAX_ZONES} zones, got {zones}")
    network = ipaddress.IPv4Network(cidr)
    quarters = list(network.subnets(prefixlen_diff=2))
    eighths = list(quarters[3].subnets(prefixlen_diff=3))
    return SubnetLayout(
        private=tuple(str(quarters[i]) for i in range(zones)),
        public=tuple(str(eighths[i]) for i in range(zones)),
        database=tuple(str(eighths[4 + i]) for i in range(zones)),
    )


@dataclass(frozen=True, kw_only=True)
class FlowLogSettings:
    retention_days: int
    key: KmsKeyHandle
    partition: str = "aws"


@dataclass(frozen=True, kw_only=True)
class NetworkProps:
    name: str
    cidr: str
    zones: int
    """Availability zones to spread over (the region's first available ones)."""
    nat_gateways: Literal["single", "per_az"]
    cluster_name: str
    """Subnets are tagged for this cluster's load balancer discovery."""
    flow_logs: FlowLogSettings | None = None
    """None: no VPC flow logs. Otherwise all traffic is logged to an encrypted CloudWatch group."""


class Network(Construct):
    def __init__(self, scope: Construct, id: str, props: NetworkProps) -> None:
        super().__init__(scope, id)
        from cdktf import Fn
        from cdktf_cdktf_provider_aws.data_aws_availability_zones import (
            DataAwsAvailabilityZones,
            DataAwsAvailabilityZonesFilter,
        )
        from cdktf_cdktf_provider_aws.default_security_group import DefaultSecurityGroup
        from cdktf_cdktf_provider_aws.eip import Eip
        from cdktf_cdktf_provider_aws.internet_gateway import InternetGateway
        from cdktf_cdktf_provider_aws.nat_gateway import NatGateway
        from cdktf_cdktf_provider_aws.route import Route
        from cdktf_cdktf_provider_aws.route_table import RouteTable
        from cdktf_cdktf_provider_aws.route_table_association import RouteTableAssociation
        from cdktf_cdktf_provider_aws.subnet import Subnet
        from cdktf_cdktf_provider_aws.vpc import Vpc

        layout = subnet_layout(props.cidr, props.zones)
        zones = DataAwsAvailabilityZones(
            self,
            "zones",
            state="available",
            filter=[DataAwsAvailabilityZonesFilter(name="opt-in-status", values=["opt-in-not-required"])],
        )
        self.vpc = Vpc(
            self,
            "vpc",
            cidr_block=props.cidr,
            enable_dns_hostnames=True,
            enable_dns_support=True,
            tags={"Name": props.name},
        )
        # The default security group allows all traffic between its members; nothing should use it.
        DefaultSecurityGroup(self, "default-security-group", vpc_id=self.vpc.id, tags={"Name": f"{props.name}-default-unused"})
        igw = InternetGateway(self, "internet-gateway", vpc_id=self.vpc.id, tags={"Name": props.name})

        cluster_tag = f"kubernetes.io/cluster/{props.cluster_name}"
        public_rt = RouteTable(self, "public-routes", vpc_id=self.vpc.id, tags={"Name": f"{props.name}-public"})
        Route(self, "public-default-route", route_table_id=public_rt.id, destination_cidr_block="0.0.0.0/0", gateway_id=igw.id)
        database_rt = RouteTable(self, "database-routes", vpc_id=self.vpc.id, tags={"Name": f"{props.name}-database"})

        def subnet(kind: str, index: int, cidr: str, tags: dict[str, str]) -> Subnet:
            letter = "abc"[index]
            return Subnet(
                self,
                f"{kind}-{letter}",
                vpc_id=self.vpc.id,
                cidr_block=cidr,
                availability_zone=Fn.element(zones.names, index),
                tags={"Name": f"{props.name}-{kind}-{letter}", **tags},
            )

        public, private, database, nats = [], [], [], []
        for i in range(props.zones):
            letter = "abc"[i]
            public_subnet = subnet("public", i, layout.public[i], {"kubernetes.io/role/elb": "1", cluster_tag: "shared"})
            RouteTableAssociation(self, f"public-{letter}-routes", subnet_id=public_subnet.id, route_table_id=public_rt.id)
            public.append(public_subnet)
            if props.nat_gateways == "per_az" or i == 0:
                eip = Eip(self, f"nat-{letter}-address", domain="vpc", tags={"Name": f"{props.name}-nat-{letter}"})
                nats.append(
                    NatGateway(
                        self,
                        f"nat-{letter}",
                        allocation_id=eip.id,
                        subnet_id=public_subnet.id,
                        tags={"Name": f"{props.name}-nat-{letter}"},
                        depends_on=[igw],
                    )
                )

        for i in range(props.zones):
            letter = "abc"[i]
            private_subnet = subnet(
                "private",
                i,
                layout.private[i],
                # Karpenter launches nodes into the subnets carrying its discovery tag: the private ones.
                {"kubernetes.io/role/internal-elb": "1", cluster_tag: "shared", "karpenter.sh/discovery": props.cluster_name},
            )
            # Each zone routes through its own NAT gateway when there is one, so losing a zone
            # does not cut the others off; with a single gateway all zones share it.
            nat = nats[i] if props.nat_gateways == "per_az" else nats[0]
            rt = RouteTable(self, f"private-{letter}-routes", vpc_id=self.vpc.id, tags={"Name": f"{props.name}-private-{letter}"})
            Route(self, f"private-{letter}-default-route", route_table_id=rt.id, destination_cidr_block="0.0.0.0/0", nat_gateway_id=nat.id)
            RouteTableAssociation(self, f"private-{letter}-route-association", subnet_id=private_subnet.id, route_table_id=rt.id)
            private.append(private_subnet)

            database_subnet = subnet("database", i, layout.database[i], {})
            RouteTableAssociation(self, f"database-{letter}-routes", subnet_id=database_subnet.id, route_table_id=database_rt.id)
            database.append(database_subnet)

        self.layout = layout
        self.public_subnet_ids = [s.id for s in public]
        self.private_subnet_ids = [s.id for s in private]
        self.database_subnet_ids = [s.id for s in database]
        self.nat_gateway_count = len(nats)

        if props.flow_logs is not None:
            self._flow_logs(props.name, props.flow_logs)

    def _flow_logs(self, name: str, settings: FlowLogSettings) -> None:
        from cdktf_cdktf_provider_aws.cloudwatch_log_group import CloudwatchLogGroup
        from cdktf_cdktf_provider_aws.flow_log import FlowLog
        from cdktf_cdktf_provider_aws.iam_role import IamRole
        from cdktf_cdktf_provider_aws.iam_role_policy import IamRolePolicy

        group = CloudwatchLogGroup(
            self,
            "flow-log-group",
            name=f"/flightdeck/{name}/vpc-flow-logs",
            retention_in_days=settings.retention_days,
            kms_key_id=settings.key.arn,
        )
        role = IamRole(
            self,
            "flow-log-role",
            name=f"{name}-vpc-flow-logs",
            assume_role_policy=service_trust("vpc-flow-logs.amazonaws.com"),
        )
        IamRolePolicy(
            self,
            "flow-log-delivery",
            role=role.id,
            name="deliver-to-log-group",
            policy=policy(
                allow(
                    ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
                    [group.arn, f"{group.arn}:*"],
                )
            ),
        )
        FlowLog(
            self,
            "flow-log",
            vpc_id=self.vpc.id,
            traffic_type="ALL",
            log_destination_type="cloud-watch-logs",
            log_destination=group.arn,
            iam_role_arn=role.arn,
            max_aggregation_interval=60,
        )

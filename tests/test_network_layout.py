"""The VPC subnet layout (a pure function, no synthesis needed)."""

from __future__ import annotations

import ipaddress
from dataclasses import replace

import pytest

from platform_constructs.aws.network import subnet_layout


@pytest.mark.parametrize(("cidr", "zones"), [("10.30.0.0/16", 3), ("10.10.0.0/16", 2), ("172.20.0.0/20", 3)])
def test_subnets_are_disjoint_and_inside_the_vpc(cidr: str, zones: int) -> None:
    layout = subnet_layout(cidr, zones)
    subnets = [ipaddress.IPv4Network(s) for s in (*layout.public, *layout.private, *layout.database)]
    assert len(subnets) == 3 * zones
    vpc = ipaddress.IPv4Network(cidr)
    assert all(s.subnet_of(vpc) for s in subnets)
    assert not any(a.overlaps(b) for i, a in enumerate(subnets) for b in subnets[i + 1 :])


def test_private_subnets_get_most_addresses() -> None:
    layout = subnet_layout("10.30.0.0/16", 3)
    assert layout.private == ("10.30.0.0/18", "10.30.64.0/18", "10.30.128.0/18")
    assert layout.public == ("10.30.192.0/21", "10.30.200.0/21", "10.30.208.0/21")
    assert layout.database == ("10.30.224.0/21", "10.30.232.0/21", "10.30.240.0/21")


def test_more_than_three_zones_is_refused() -> None:
    with pytest.raises(ValueError, match="a VPC spans 1 to 3 zones, got 4"):
        subnet_layout("10.0.0.0/16", 4)


def test_a_gke_network_that_is_no_ipv4_network_is_refused_with_the_reason() -> None:
    from platform_constructs.gcp.network import GcpNetworkLayout

    with pytest.raises(ValueError, match=r"network cidr '10.120.0.1/16' is not an IPv4 network with its host bits zero"):
        GcpNetworkLayout.of("10.120.0.1/16")
    layout = GcpNetworkLayout.of("10.120.0.0/16")
    with pytest.raises(ValueError, match=r"the pods range 10.0.0.0/17 is not inside the network cidr 10.120.0.0/16"):
        replace(layout, pods="10.0.0.0/17")._check()
    with pytest.raises(ValueError, match=r"the nodes range .* overlaps the services range"):
        replace(layout, services=layout.nodes)._check()

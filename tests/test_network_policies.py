"""Cross-checks of the network policies against the identities: every pod that has a cloud identity can
reach the agent that hands out its credentials, and no pod reaches anything else on the node's
link-local range (instance metadata above all)."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from typing import Any

import pytest

from .conftest import resources

LINK_LOCAL = ipaddress.IPv4Network("169.254.0.0/16")
POD_IDENTITY_AGENT = ("169.254.170.23/32", "80")
GKE_METADATA = {("169.254.169.254/32", "80"), ("169.254.169.252/32", "988")}


def ip_rules(stack: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any], list[str]]]:
    """(namespace, policy, ip_block, ports) of every egress rule to an address range."""
    for policy in resources(stack, "kubernetes_network_policy_v1").values():
        for rule in policy["spec"].get("egress", []):
            ports = [p["port"] for p in rule.get("ports", [])]
            for peer in rule.get("to", []):
                if "ip_block" in peer:
                    yield policy["metadata"]["namespace"], policy["metadata"]["name"], peer["ip_block"], ports


def identity_namespaces(stack: dict[str, Any]) -> set[str]:
    """Namespaces with a pod that acts as a cloud identity (EKS Pod Identity associations)."""
    return {a["namespace"] for a in resources(stack, "aws_eks_pod_identity_association").values()}


def guarded(stack: dict[str, Any]) -> set[str]:
    """Namespaces whose egress starts closed (a default-deny policy)."""
    return {
        p["metadata"]["namespace"]
        for p in resources(stack, "kubernetes_network_policy_v1").values()
        if p["metadata"]["name"] == "default-deny" and "Egress" in p["spec"]["policy_types"]
    }


def allows_for_all_pods(stack: dict[str, Any], namespace: str, cidr: str, port: str) -> bool:
    for policy in resources(stack, "kubernetes_network_policy_v1").values():
        if policy["metadata"]["namespace"] != namespace or policy["spec"]["pod_selector"].get("match_labels"):
            continue
        for rule in policy["spec"].get("egress", []):
            peers = [p.get("ip_block", {}).get("cidr") for p in rule.get("to", [])]
            if cidr in peers and port in [p["port"] for p in rule.get("ports", [])]:
                return True
    return False


@pytest.mark.parametrize("env", ["dev", "qa", "prod"])
def test_every_namespace_with_a_pod_identity_reaches_the_agent(stacks: dict[str, Any], env: str) -> None:
    stack = stacks[env]
    closed = identity_namespaces(stack) & guarded(stack)
    assert {"airflow", *(f"team-{t}" for t in ("analytics", "marketing") if env != "dev")} <= closed
    for namespace in closed:
        assert allows_for_all_pods(stack, namespace, *POD_IDENTITY_AGENT), f"{namespace} cannot reach the Pod Identity agent"


@pytest.mark.parametrize("env", ["dev", "qa", "prod"])
def test_nothing_else_on_the_link_local_range_is_reachable(stacks: dict[str, Any], env: str) -> None:
    rules = list(ip_rules(stacks[env]))
    assert rules
    for namespace, name, block, ports in rules:
        network = ipaddress.IPv4Network(block["cidr"])
        if network.subnet_of(LINK_LOCAL):
            assert (block["cidr"], ports) == (POD_IDENTITY_AGENT[0], [POD_IDENTITY_AGENT[1]]), f"{namespace}/{name}"
        elif network.overlaps(LINK_LOCAL):
            assert "169.254.0.0/16" in block.get("except", []), f"{namespace}/{name} reaches the link-local range"


def test_gke_pods_reach_the_metadata_server_only(gke_stacks: dict[str, Any]) -> None:
    stack = gke_stacks["prod"]
    for namespace in {"airflow", "team-analytics"}:
        for cidr, port in GKE_METADATA:
            assert allows_for_all_pods(stack, namespace, cidr, port), namespace
    for namespace, name, block, ports in ip_rules(stack):
        network = ipaddress.IPv4Network(block["cidr"])
        if network.subnet_of(LINK_LOCAL):
            assert {(block["cidr"], p) for p in ports} <= GKE_METADATA, f"{namespace}/{name}"
        elif network.overlaps(LINK_LOCAL):
            assert "169.254.0.0/16" in block.get("except", []), f"{namespace}/{name}"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"cidr": "10.0.0.0/8", "pod_labels": {"app": "x"}}, "address range or pods, not both"),
        ({"cidr": "10.0.0.0/8", "namespace": "kube-system"}, "address range or pods, not both"),
        ({}, "names an address range, pods or a namespace"),
        ({"pod_labels": {"app": "x"}, "except_cidrs": ("10.0.0.0/24",)}, "carve out of a cidr"),
    ],
)
def test_a_peer_is_one_kind_of_peer(kwargs: dict[str, Any], message: str) -> None:
    from platform_constructs.kubernetes.namespace import Peer

    with pytest.raises(ValueError, match=message):
        Peer(**kwargs)
    assert Peer.anywhere().cidr == "0.0.0.0/0"

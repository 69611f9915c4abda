"""A namespace with its guardrails: Pod Security labels, quota, default limits, and network policies.

Every guarded namespace starts closed: a default-deny policy for ingress and egress, then DNS.
Everything else is opened by intent (``allow_egress``, ``allow_ingress``), one named policy per
reason, so a reviewer reads the allowed flows as a list.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from constructs import Construct

from ..handles import CredentialEndpoint
from ..shapes import metadata_argument

if TYPE_CHECKING:
    from cdktf import ITerraformDependable

PodSecurityLevel = Literal["privileged", "baseline", "restricted"]
NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name"


LINK_LOCAL = "169.254.0.0/16"
"""The node's own addresses (instance metadata, credential agents): reached only where a policy names them."""


@dataclass(frozen=True)
class Peer:
    """One side of a network flow: pods (optionally in another namespace) or an address range."""

    namespace: str | None = None
    """None with pod_labels: pods in the policy's own namespace."""
    pod_labels: Mapping[str, str] | None = None
    cidr: str | None = None
    except_cidrs: Sequence[str] = ()
    """Ranges inside ``cidr`` that the flow does not reach."""

    def __post_init__(self) -> None:
        # A NetworkPolicy peer is either an address range or a pod (and namespace) selector, never both.
        if self.cidr is not None and (self.pod_labels is not None or self.namespace is not None):
            raise ValueError(f"a peer is an address range or pods, not both (cidr {self.cidr} with pods {self.namespace}/{self.pod_labels})")
        if self.cidr is None and self.pod_labels is None and self.namespace is None:
            raise ValueError("a peer names an address range, pods or a namespace")
        if self.except_cidrs and self.cidr is None:
            raise ValueError("except_cidrs carve out of a cidr; this peer has none")

    @staticmethod
    def anywhere() -> Peer:
        """Every address but the node's link-local range (see ``GuardedNamespace.allow_workload_credentials``)."""
        return Peer(cidr="0.0.0.0/0", except_cidrs=(LINK_LOCAL,))


@dataclass(frozen=True)
class Port:
    port: int
    protocol: Literal["TCP", "UDP"] = "TCP"


@dataclass(frozen=True, kw_only=True)
class QuotaSpec:
    cpu: str
    memory: str
    pods: int


@dataclass(frozen=True, kw_only=True)
class DefaultResources:
    """Requests (and memory limit) given to containers that state none."""

    cpu: str
    memory: str


@dataclass(frozen=True, kw_only=True)
class GuardedNamespaceProps:
    name: str
    quota: QuotaSpec
    default_resources: DefaultResources
    enforce: PodSecurityLevel = "baseline"
    """Pod Security Admission level that rejects pods."""
    warn: PodSecurityLevel = "restricted"
    """Level reported as warnings and audit events, to show what a stricter namespace would reject."""
    labels: Mapping[str, str] = field(default_factory=dict)
    depends_on: Sequence[ITerraformDependable] = ()


DNS = (Port(53, "UDP"), Port(53, "TCP"))
KUBE_DNS = Peer(namespace="kube-system", pod_labels={"k8s-app": "kube-dns"})


class GuardedNamespace(Construct):
    def __init__(self, scope: Construct, id: str, props: GuardedNamespaceProps) -> None:
        super().__init__(scope, id)
        from cdktf_cdktf_provider_kubernetes.limit_range_v1 import (
            LimitRangeV1,
            LimitRangeV1Metadata,
            LimitRangeV1Spec,
            LimitRangeV1SpecLimit,
        )
        from cdktf_cdktf_provider_kubernetes.namespace_v1 import NamespaceV1, NamespaceV1Metadata
        from cdktf_cdktf_provider_kubernetes.resource_quota_v1 import (
            ResourceQuotaV1,
            ResourceQuotaV1Metadata,
            ResourceQuotaV1Spec,
        )

        self.name = props.name
        self.namespace = NamespaceV1(
            self,
            "namespace",
            metadata=metadata_argument(
                NamespaceV1,
                NamespaceV1Metadata(
                    name=props.name,
                    labels={
                        **props.labels,
                        "pod-security.kubernetes.io/enforce": props.enforce,
                        "pod-security.kubernetes.io/warn": props.warn,
                        "pod-security.kubernetes.io/audit": props.warn,
                    },
                ),
            ),
            depends_on=list(props.depends_on) or None,
        )
        ResourceQuotaV1(
            self,
            "quota",
            metadata=ResourceQuotaV1Metadata(name="namespace-quota", namespace=props.name),
            spec=ResourceQuotaV1Spec(
                hard={
                    "requests.cpu": props.quota.cpu,
                    "requests.memory": props.quota.memory,
                    "limits.memory": props.quota.memory,
                    "pods": str(props.quota.pods),
                }
            ),
            depends_on=[self.namespace],
        )
        LimitRangeV1(
            self,
            "limits",
            metadata=LimitRangeV1Metadata(name="container-defaults", namespace=props.name),
            spec=LimitRangeV1Spec(
                limit=[
                    LimitRangeV1SpecLimit(
                        type="Container",
                        default_request={"cpu": props.default_resources.cpu, "memory": props.default_resources.memory},
                        default={"memory": props.default_resources.memory},
                    )
                ]
            ),
            depends_on=[self.namespace],
        )
        self._policy("default-deny", pods=None, types=["Ingress", "Egress"])
        self.allow_egress("dns", to=[KUBE_DNS], ports=DNS)

    def allow_egress(
        self, name: str, *, to: Sequence[Peer], ports: Sequence[Port], pods: Mapping[str, str] | None = None
    ) -> None:
        """Let ``pods`` (all pods if None) open connections to ``to`` on ``ports``."""
        self._policy(f"allow-egress-{name}", pods=pods, types=["Egress"], egress=(to, ports))

    def allow_workload_credentials(self, endpoints: Sequence[CredentialEndpoint]) -> None:
        """Let every pod reach the node-local agents that hand out cloud credentials, one policy per port."""
        for port in sorted({e.port for e in endpoints}):
            cidrs = sorted(e.cidr for e in endpoints if e.port == port)
            self.allow_egress(f"workload-credentials-{port}", to=[Peer(cidr=c) for c in cidrs], ports=[Port(port)])

    def allow_ingress(
        self, name: str, *, sources: Sequence[Peer], ports: Sequence[Port], pods: Mapping[str, str] | None = None
    ) -> None:
        """Let ``sources`` connect to ``pods`` (all pods if None) on ``ports``."""
        self._policy(f"allow-ingress-{name}", pods=pods, types=["Ingress"], ingress=(sources, ports))

    def _policy(
        self,
        name: str,
        *,
        pods: Mapping[str, str] | None,
        types: list[str],
        egress: tuple[Sequence[Peer], Sequence[Port]] | None = None,
        ingress: tuple[Sequence[Peer], Sequence[Port]] | None = None,
    ) -> None:
        from cdktf_cdktf_provider_kubernetes.network_policy_v1 import (
            NetworkPolicyV1,
            NetworkPolicyV1Metadata,
            NetworkPolicyV1Spec,
            NetworkPolicyV1SpecEgress,
            NetworkPolicyV1SpecEgressPorts,
            NetworkPolicyV1SpecIngress,
            NetworkPolicyV1SpecIngressPorts,
            NetworkPolicyV1SpecPodSelector,
        )

        spec_egress = None
        spec_ingress = None
        if egress is not None:
            peers, ports = egress
            spec_egress = [
                NetworkPolicyV1SpecEgress(
                    to=[_peer(p, "egress") for p in peers],
                    ports=[NetworkPolicyV1SpecEgressPorts(port=str(p.port), protocol=p.protocol) for p in ports],
                )
            ]
        if ingress is not None:
            peers, ports = ingress
            spec_ingress = [
                NetworkPolicyV1SpecIngress(
                    from_=[_peer(p, "ingress") for p in peers],
                    ports=[NetworkPolicyV1SpecIngressPorts(port=str(p.port), protocol=p.protocol) for p in ports],
                )
            ]
        NetworkPolicyV1(
            self,
            name,
            metadata=NetworkPolicyV1Metadata(name=name, namespace=self.name),
            spec=NetworkPolicyV1Spec(
                pod_selector=NetworkPolicyV1SpecPodSelector(match_labels=dict(pods) if pods else None),
                policy_types=types,
                egress=spec_egress,
                ingress=spec_ingress,
            ),
            depends_on=[self.namespace],
        )


def _peer(peer: Peer, direction: Literal["ingress", "egress"]) -> Any:
    """A ``…EgressTo`` or ``…IngressFrom`` struct: the two families have the same shape, not the same type."""
    from cdktf_cdktf_provider_kubernetes import network_policy_v1 as np

    peer_type: Any
    ip_block: Any
    ns_selector: Any
    pod_selector: Any
    if direction == "egress":
        peer_type, ip_block, ns_selector, pod_selector = (
            np.NetworkPolicyV1SpecEgressTo,
            np.NetworkPolicyV1SpecEgressToIpBlock,
            np.NetworkPolicyV1SpecEgressToNamespaceSelector,
            np.NetworkPolicyV1SpecEgressToPodSelector,
        )
    else:
        peer_type, ip_block, ns_selector, pod_selector = (
            np.NetworkPolicyV1SpecIngressFrom,
            np.NetworkPolicyV1SpecIngressFromIpBlock,
            np.NetworkPolicyV1SpecIngressFromNamespaceSelector,
            np.NetworkPolicyV1SpecIngressFromPodSelector,
        )
    if peer.cidr is not None:
        return peer_type(ip_block=ip_block(cidr=peer.cidr, except_=list(peer.except_cidrs) or None))
    return peer_type(
        namespace_selector=ns_selector(match_labels={NAMESPACE_NAME_LABEL: peer.namespace}) if peer.namespace else None,
        pod_selector=pod_selector(match_labels=dict(peer.pod_labels)) if peer.pod_labels is not None else None,
    )

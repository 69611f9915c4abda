"""What every cloud's cluster has: node groups, the system pool's sizing, and who may reach its API."""

from __future__ import annotations

import ipaddress
from typing import Annotated, Any, Literal

from pydantic import Field, model_validator

from .primitives import Model, Tier


class NodeGroup(Model):
    instance_types: list[Annotated[str, Field(pattern=r"^[a-z][a-z0-9.-]*[a-z0-9]$")]] = Field(min_length=1)
    """AWS instance types (``m6i.large``; several let the group use whichever has capacity) or one GCP
    machine type (``e2-standard-4``)."""
    min_size: int = Field(ge=0, le=200)
    desired_size: int = Field(ge=0, le=200)
    max_size: int = Field(ge=1, le=200)
    disk_size_gib: int = Field(default=50, ge=20, le=2000)
    capacity_type: Literal["ON_DEMAND", "SPOT"] = "ON_DEMAND"

    @model_validator(mode="after")
    def _sizes_in_order(self) -> NodeGroup:
        if self.min_size > self.max_size:
            raise ValueError(f"min_size {self.min_size} is larger than max_size {self.max_size}")
        if not self.min_size <= self.desired_size <= self.max_size:
            raise ValueError(
                f"desired_size {self.desired_size} must lie between min_size {self.min_size} and max_size {self.max_size}"
            )
        return self


class NodeGroups(Model):
    system: NodeGroup
    """Runs Airflow's own components and cluster add-ons."""
    workers: NodeGroup
    """Tainted so that only task pods (which tolerate the taint) land here."""


class SystemNodeGroup(Model):
    system: NodeGroup
    """The managed node group for Airflow's own components and the cluster add-ons (tainted: only
    what tolerates it runs there). Task capacity comes from ``cluster.node_pools`` (Karpenter)."""

    @model_validator(mode="before")
    @classmethod
    def _no_workers_group(cls, data: Any) -> Any:
        if isinstance(data, dict) and "workers" in data:
            raise ValueError(
                "workers is not a node group on EKS: task capacity is a Karpenter node pool; set cluster.node_pools.workers "
                "(instance_families, capacity, cpu_limit, memory_limit_gib) instead"
            )
        return data


def _check_public_endpoint_tier(tier: Tier, public: bool, reached: str) -> None:
    """Only dev may open the Kubernetes API's address to the internet; qa and prod are ``reached`` otherwise."""
    if public and tier is not Tier.DEV:
        raise ValueError(f"cluster.endpoint_public_access is true; only dev may open the API endpoint, a {tier} cluster is {reached}")


INTERNET_WIDE_ADDRESSES = 2**24
"""Allow-lists that together admit more public addresses than a /8 are treated as the whole internet."""


def internet_wide(cidrs: list[str]) -> int:
    """How many addresses ``cidrs`` admit together if that is internet-wide (public ranges wider than a /8), else 0.

    Ranges are merged first, so two ``/1`` halves count as the ``0.0.0.0/0`` they add up to.
    """
    networks = ipaddress.collapse_addresses(ipaddress.IPv4Network(c) for c in cidrs)
    public = sum(n.num_addresses for n in networks if not n.is_private)
    return public if public > INTERNET_WIDE_ADDRESSES else 0


def _check_api_allow_list(public: bool, cidrs: list[str]) -> None:
    """A public API endpoint needs an allow-list, and the allow-list is never the whole internet."""
    if public and not cidrs:
        raise ValueError("endpoint_public_access is true but public_access_cidrs is empty; list the ranges allowed to reach the API")
    wide = internet_wide(cidrs)
    if wide:
        raise ValueError(
            f"public_access_cidrs admit {wide:,} addresses together, the whole internet (public ranges wider than "
            "a /8 count as that); list the office or VPN ranges instead"
        )


SMALL_SIZES = ("nano", "micro", "small", "medium")
"""Machine sizes with less than 8 GiB of memory: too small for the system pool outside dev."""


def _aws_too_small(kind: str) -> str | None:
    """Why an EC2 type cannot carry the system pool outside dev, or None."""
    family, _, size = kind.partition(".")
    if size in SMALL_SIZES:
        return f"a {size} instance has too little memory for Airflow's control components and the cluster add-ons"
    if family.startswith("t"):
        return "burstable instances run out of CPU credits under the steady load of Airflow's control components"
    return None


def _gcp_too_small(kind: str) -> str | None:
    """Why a GCE machine type cannot carry the system pool outside dev, or None."""
    if kind in ("f1-micro", "g1-small") or kind.endswith(tuple(f"-{size}" for size in SMALL_SIZES)):
        return "a shared-core machine has too little CPU and memory for Airflow's control components and the cluster add-ons"
    return None


def _check_system_pool(tier: Tier, group: NodeGroup, where: str, too_small: Any) -> None:
    """Outside dev the system pool survives the loss of a node and is made of machines that can carry it."""
    if tier is Tier.DEV:
        return
    if group.min_size < 2:
        raise ValueError(f"{where}.min_size is {group.min_size}; a {tier} system pool keeps at least 2 nodes, so losing one does not stop Airflow")
    for kind in group.instance_types:
        why = too_small(kind)
        if why:
            raise ValueError(f"{where}.instance_types: '{kind}' cannot carry a {tier} system pool: {why}")

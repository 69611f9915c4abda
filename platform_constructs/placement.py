"""Node pools: how the cluster's nodes are labelled and tainted, and how pods ask for them.

The cluster constructs (the EKS system node group and Karpenter node pools, GKE node pools) and the
Airflow values both read these, so the label a node carries and the selector a pod uses cannot
drift apart. Every pool is tainted: a pod lands only where it tolerates the taint, so nothing runs
on the system nodes unless it was meant to, whatever happens to an admission webhook.
"""

from __future__ import annotations

from dataclasses import dataclass, field

POOL_LABEL = "flightdeck.io/node-pool"


@dataclass(frozen=True, kw_only=True)
class Taint:
    key: str
    value: str
    effect: str = "NoSchedule"
    """Kubernetes spelling; the clouds' node-pool APIs spell it ``NO_SCHEDULE``, see ``api_effect``."""

    @property
    def api_effect(self) -> str:
        """The effect as EKS's and GKE's node-pool APIs spell it (both ``NO_SCHEDULE``)."""
        return {"NoSchedule": "NO_SCHEDULE", "NoExecute": "NO_EXECUTE", "PreferNoSchedule": "PREFER_NO_SCHEDULE"}[self.effect]

    def toleration(self) -> dict[str, str]:
        """The toleration (Kubernetes pod spec form) that lets a pod onto nodes with this taint."""
        return {"key": self.key, "operator": "Equal", "value": self.value, "effect": self.effect}


@dataclass(frozen=True, kw_only=True)
class NodePool:
    name: str
    labels: dict[str, str] = field(default_factory=dict)
    taints: tuple[Taint, ...] = ()
    also_tolerated: tuple[Taint, ...] = ()
    """Taints a cloud may put on this pool's nodes instead of ``taints`` (GKE's own system-pool taint)."""

    def node_selector(self) -> dict[str, str]:
        return {POOL_LABEL: self.name}

    def tolerations(self) -> list[dict[str, str]]:
        return [taint.toleration() for taint in (*self.taints, *self.also_tolerated)]


GKE_SYSTEM_TAINT = Taint(key="components.gke.io/gke-managed-components", value="true")
"""GKE's taint for a dedicated system pool: GKE's own components (kube-dns, metrics-server) tolerate
it, and they would not tolerate ours."""

SYSTEM_POOL = NodePool(
    name="system",
    labels={POOL_LABEL: "system"},
    taints=(Taint(key=POOL_LABEL, value="system"),),
    also_tolerated=(GKE_SYSTEM_TAINT,),
)
"""Airflow's own components and the cluster add-ons, which all tolerate the taint; nothing else."""

WORKERS_POOL = NodePool(
    name="workers",
    labels={POOL_LABEL: "workers"},
    taints=(Taint(key=POOL_LABEL, value="workers"),),
)
"""Task pods only: the taint keeps everything else off, the toleration in the pod template lets tasks on."""

BACKFILL_POOL = NodePool(
    name="backfill",
    labels={POOL_LABEL: "backfill"},
    taints=(Taint(key=POOL_LABEL, value="backfill"),),
)
"""Backfill task pods: their own capacity, so a backfill never starves scheduled runs."""

DO_NOT_DISRUPT = "karpenter.sh/do-not-disrupt"
"""The pod annotation that keeps Karpenter from consolidating or replacing the pod's node while it runs."""

TEAM_LABEL = "team"
"""The label developers put on their pods, and the taint key of a team's dedicated nodes."""


def team_pool(team: str) -> NodePool:
    """A team's dedicated nodes: labelled and tainted ``team=<name>``, so only its pods (which the
    admission policy gives the toleration and affinity) land there."""
    return NodePool(
        name=f"team-{team}",
        labels={POOL_LABEL: f"team-{team}", TEAM_LABEL: team},
        taints=(Taint(key=TEAM_LABEL, value=team),),
    )

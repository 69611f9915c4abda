"""What a team is, for every layer: its namespace, its cloud permissions, its placement and its pool.

The cloud seam turns a team's permissions into a cloud identity (an IAM role on AWS); the
Kubernetes layer (``kubernetes/tenancy.py``) gives it a guarded namespace bound to that identity;
admission policies enforce its labels and placement; Airflow gets a pool per team.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from .kubernetes.namespace import QuotaSpec
from .workloads import Workload, team_workload


@dataclass(frozen=True, kw_only=True)
class BucketGrant:
    bucket: str
    prefix: str = ""
    """Objects under this prefix; empty: the whole bucket."""
    write: bool = False


@dataclass(frozen=True, kw_only=True)
class TeamSpec:
    name: str
    cost_center: str
    quota: QuotaSpec
    tags: Mapping[str, str]
    """Tags of the team's cloud resources (env, team, cost-center)."""
    buckets: Sequence[BucketGrant] = ()
    secrets: Sequence[str] = ()
    """Secret names the team's tasks may read."""
    dedicated_nodes: bool = False
    pool_slots: int = 16

    @property
    def namespace(self) -> str:
        return self.workload.namespace

    @property
    def workload(self) -> Workload:
        return team_workload(self.name)

    @property
    def labels(self) -> dict[str, str]:
        """The labels every pod of the team carries (enforced by admission policy)."""
        return {"team": self.name, "cost-center": self.cost_center}

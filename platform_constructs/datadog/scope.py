"""What the dashboards and monitors look at: one environment's Airflow, its namespaces and its database."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ..handles import DatabaseMetrics

SERVICE = "airflow"


@dataclass(frozen=True, kw_only=True)
class MonitoringScope:
    env: str
    team: str
    """The team that owns the environment (monitors are tagged with it)."""
    namespaces: Sequence[str]
    """Namespaces where Airflow's components and task pods run."""
    database: DatabaseMetrics | None
    """None: no cloud integration reports the database (an existing cluster's); no database dashboard or monitors."""
    provisioning_failures: str | None = None
    """A query of the node provisioner's failed launches (``{filter}`` for the tags); None: no such monitor."""

    @property
    def tags(self) -> list[str]:
        """Tags of every monitor."""
        return [f"env:{self.env}", f"service:{SERVICE}", f"team:{self.team}", "managed-by:flightdeck"]

"""``teams:``: each team's namespace, quota, cloud permissions, nodes and, if it has one, its own Airflow."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from .airflow import TEAM_NAMESPACE_PREFIX, Dags, Quota
from .cluster import NodeGroup
from .primitives import BucketName, CostCenter, Model, SecretName


class BucketGrant(Model):
    bucket: BucketName
    prefix: str = Field(default="", pattern=r"^([A-Za-z0-9!_.*'()-]+/)*$")
    """Objects under this prefix (``curated/``); empty: the whole bucket."""
    write: bool = False
    """Also put and delete objects (read is always granted)."""


class TeamPermissions(Model):
    """What a team's task pods may do in the cloud, and nothing else."""

    buckets: list[BucketGrant] = []
    secrets: list[SecretName] = []
    """Secrets (by name) the team's tasks may read."""


class DedicatedUi(Model):
    hostname: str = Field(pattern=r"^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$")
    """The team's own Airflow's UI (``analytics.airflow.example.com``)."""
    certificate: str | None = Field(default=None, pattern=r"^[A-Za-z0-9:/._-]{1,2048}$")
    """Its TLS certificate (same form as ``airflow.ui.certificate``); None: the environment's, which must then cover the hostname."""


class TeamAirflow(Model):
    """Which Airflow runs a team's DAGs: the environment's shared one, or one of its own."""

    mode: Literal["shared", "dedicated"] = "shared"
    """``dedicated``: its own namespace, release, database and role, identities, log folder, UI and
    DAG bundle, a boundary between teams that the shared Airflow is not (see the README, Tenancy)."""
    dags: Dags | None = None
    """A dedicated Airflow's DAG bundle: its own repository and ref (``source: git``)."""
    ui: DedicatedUi | None = None
    """A dedicated Airflow's UI; single sign-on and everything else comes from the environment's ``airflow:``."""

    @model_validator(mode="before")
    @classmethod
    def _short_form(cls, value: object) -> object:
        # ``airflow: dedicated`` and ``airflow: shared`` are shorthands for ``airflow: {mode: …}``.
        return {"mode": value} if isinstance(value, str) else value

    @model_validator(mode="after")
    def _dedicated_settings(self) -> TeamAirflow:
        if self.mode == "shared":
            if self.dags is not None or self.ui is not None:
                raise ValueError("dags and ui are set but mode is shared; they are the settings of a dedicated Airflow (mode: dedicated)")
            return self
        if self.dags is None or self.dags.git is None:
            raise ValueError(
                "a dedicated Airflow needs its own DAG bundle: dags: {source: git, git: {repository: …, ref: …}}"
            )
        if self.ui is None:
            raise ValueError("a dedicated Airflow needs its own UI: ui: {hostname: …} (and certificate, unless the environment's covers it)")
        return self

    @property
    def dedicated(self) -> bool:
        return self.mode == "dedicated"


class Team(Model):
    name: Annotated[str, Field(pattern=r"^[a-z][a-z0-9-]{0,18}[a-z0-9]$")]
    """Short name: the namespace is ``team-<name>``, the ``team`` label on pods and nodes."""
    cost_center: CostCenter
    quota: Quota
    permissions: TeamPermissions = TeamPermissions()
    dedicated_nodes: NodeGroup | None = None
    """A node group tainted ``team=<name>:NoSchedule`` that only this team's pods use."""
    pool_slots: int = Field(default=16, ge=1, le=1024)
    """Slots of the team's Airflow pool (``team-<name>``): how many of its tasks run at once."""
    airflow: TeamAirflow = TeamAirflow()
    """``shared`` (the default) or ``dedicated``: an Airflow of the team's own (see TeamAirflow)."""

    @property
    def namespace(self) -> str:
        return f"{TEAM_NAMESPACE_PREFIX}{self.name}"

    @property
    def airflow_namespace(self) -> str:
        """A dedicated Airflow's namespace (``airflow-<name>``)."""
        return f"airflow-{self.name}"

"""``cloud: existing``: a cluster, database and log store that someone else runs."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from .airflow import (
    KubernetesName,
)
from .aws import StateBackend
from .base import (
    KUBERNETES_NAME,
    RESOURCE_NAME,
    EnvironmentBase,
    StackPart,
)
from .gcp import GcsState
from .primitives import Cidr, Model, Tier


class ExistingDatabase(Model):
    host: str = Field(pattern=r"^[A-Za-z0-9.-]+$")
    """The PostgreSQL server's address (a DNS name or an IP)."""
    port: int = Field(default=5432, ge=1, le=65535)
    name: str = Field(default="airflow", pattern=r"^[a-z_][a-z0-9_]{0,62}$")
    """The database Airflow owns on that server."""
    secret: KubernetesName
    """A Kubernetes secret in ``secrets_namespace`` with ``username`` and ``password`` keys."""
    cidrs: list[Cidr] = Field(min_length=1)
    """Where the server is (``10.0.5.10/32``, or the pod range for a database in the cluster): PgBouncer may connect there only."""
    tls: Literal["require", "prefer", "disable"] = "require"
    """PgBouncer's ``server_tls_sslmode``; ``prefer`` or ``disable`` only for a server without TLS (a local trial)."""


class ExistingTaskLogs(Model):
    remote_base_log_folder: str = Field(pattern=r"^(s3|gs|wasb)://[a-z0-9][a-z0-9._-]*[a-z0-9](/[A-Za-z0-9._/-]*)?$")
    """Where Airflow writes task logs (``s3://bucket/airflow``)."""
    connection_id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    """The Airflow connection with access to it (provided by the cluster's owners, e.g. as an
    ``AIRFLOW_CONN_…`` secret or workload identity of the pods)."""


class ExistingCluster(Model):
    kubeconfig_path: str = Field(min_length=1)
    """The kubeconfig Terraform uses (``~/.kube/config``)."""
    context: str = Field(min_length=1)
    """The context in it that names the cluster (``kind-flightdeck``)."""
    secrets_namespace: KubernetesName
    """Namespace where the cluster's owners keep the secrets this file names (database, DAG
    repository, Datadog key); Flightdeck reads them from there, it never writes them."""
    database: ExistingDatabase
    nodes_cidr: Cidr
    """The nodes' addresses (the monitoring agent reads their kubelets)."""
    pods_cidr: Cidr
    """The pods' addresses (the ingress controller reaches the UI from there)."""
    ingress_class: KubernetesName = "nginx"
    """The IngressClass of the cluster's ingress controller."""
    max_nodes: int = Field(default=10, ge=1, le=5000)
    """The most nodes the cluster has (sizes the monitoring agent's quota)."""
    task_logs: ExistingTaskLogs | None = None
    """Remote task logs; none: logs stay in the task pod and go with it (fine for a trial, not for production)."""


class LocalState(Model):
    path: str = Field(pattern=r"^[A-Za-z0-9._/-]+\.tfstate$")
    """State file, relative to the project folder (``terraform-state/dev.tfstate``); keep it out of git."""


class ExistingEnvironment(EnvironmentBase):
    """``cloud: existing``: only the Kubernetes, Airflow and monitoring layers, on a cluster someone else runs."""

    cloud: Literal["existing"]
    existing: ExistingCluster
    state: StateBackend | GcsState | LocalState | None = None
    """Remote state (an S3 bucket with its region, or a GCS bucket), a local file, or by default
    ``terraform-state/<env>.tfstate`` in the project folder."""

    @property
    def stack_parts(self) -> tuple[StackPart, ...]:
        """One stack: the cluster and everything around it belong to its owners."""
        return ("cluster",)

    @property
    def flightdeck_buckets(self) -> dict[str, str]:
        state = self.state
        return {state.bucket: "Terraform state"} if isinstance(state, StateBackend | GcsState) else {}

    @model_validator(mode="after")
    def _existing(self) -> ExistingEnvironment:
        if isinstance(self.state, StateBackend) and self.state.region is None:
            raise ValueError("state.region is not set; an S3 state bucket needs its region on an existing cluster")
        if self.airflow.image.repository == "platform":
            raise ValueError("airflow.image.repository is 'platform', but an existing cluster has no platform image repository; name the image")
        if not RESOURCE_NAME.match(self.airflow.ui.certificate) or len(self.airflow.ui.certificate) > 63:
            raise ValueError(f"airflow.ui.certificate: '{self.airflow.ui.certificate}' is not a TLS secret name in Airflow's namespace")
        if self.airflow.ui.public:
            raise ValueError("airflow.ui.public is true; on an existing cluster the cluster's owners decide how the ingress is exposed")
        if self.airflow.ui.dns_zone is not None:
            raise ValueError("airflow.ui.dns_zone is set; on an existing cluster the cluster's owners run its DNS (ask them for the record)")
        if self.tier is not Tier.DEV and self.existing.database.tls != "require":
            raise ValueError(
                f"existing.database.tls is '{self.existing.database.tls}'; a {self.tier} environment's database connection "
                "is always encrypted ('require'): 'prefer' falls back to plain text without a word"
            )
        for field, name in [("existing.database.secret", self.existing.database.secret), *self._secret_fields()]:
            if not KUBERNETES_NAME.match(name):
                raise ValueError(
                    f"{field}: '{name}' is not a Kubernetes secret name; on an existing cluster secrets live in existing.secrets_namespace"
                )
        for index, team in enumerate(self.teams):
            if team.dedicated_nodes is not None:
                raise ValueError(f"teams[{index}].dedicated_nodes is set; Flightdeck does not create nodes on an existing cluster")
            if team.permissions.buckets or team.permissions.secrets:
                raise ValueError(f"teams[{index}].permissions is set; an existing cluster gets no cloud identities from Flightdeck")
            if team.airflow.dedicated:
                raise ValueError(
                    f"teams[{index}].airflow is dedicated; on an existing cluster Flightdeck makes no database, role or "
                    "identities, so a team's own Airflow is a Flightdeck environment of its own (its own file, with the "
                    "database and secrets its owners provide)"
                )
        return self

    @property
    def max_nodes(self) -> int:
        return self.existing.max_nodes

"""The Airflow components that get their own cloud identity, and what each may do with task logs.

One role (AWS) or service account (GCP) per component, so a compromised API server cannot write
logs and a task pod cannot read another component's secrets.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

AIRFLOW_NAMESPACE = "airflow"
AIRFLOW_RELEASE = "airflow"


class LogAccess(StrEnum):
    NONE = "none"
    READ = "read"
    WRITE = "write"
    """Write implies read: Airflow re-reads a log it is appending to."""


@dataclass(frozen=True, kw_only=True)
class Workload:
    name: str
    """Short component name, used in role names (``flightdeck-prod-scheduler``)."""
    namespace: str
    service_account: str
    log_access: LogAccess


def _airflow(name: str, log_access: LogAccess) -> Workload:
    return Workload(
        name=name,
        namespace=AIRFLOW_NAMESPACE,
        service_account=f"{AIRFLOW_RELEASE}-{name}",
        log_access=log_access,
    )


AIRFLOW_WORKLOADS: tuple[Workload, ...] = (
    _airflow("scheduler", LogAccess.READ),
    _airflow("api-server", LogAccess.READ),
    _airflow("dag-processor", LogAccess.WRITE),
    _airflow("triggerer", LogAccess.WRITE),
    _airflow("worker", LogAccess.WRITE),
)
"""Service account names follow the chart's ``<release>-<component>`` convention and are also set
explicitly in the Helm values, so the identity and the pod meet on the same name."""


def team_workload(team: str) -> Workload:
    """The service account a team's task pods run as, in the team's namespace, with the team's cloud identity."""
    return Workload(name=f"team-{team}", namespace=f"team-{team}", service_account=f"{team}-tasks", log_access=LogAccess.NONE)


EXTERNAL_SECRETS = Workload(
    name="external-secrets",
    namespace="external-secrets",
    service_account="external-secrets",
    log_access=LogAccess.NONE,
)
"""The External Secrets Operator: on a cloud, the identity that reads the cloud's secret store."""

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


AIRFLOW_COMPONENTS: tuple[tuple[str, LogAccess], ...] = (
    ("scheduler", LogAccess.READ),
    ("api-server", LogAccess.READ),
    ("dag-processor", LogAccess.WRITE),
    ("triggerer", LogAccess.WRITE),
    ("worker", LogAccess.WRITE),
)
"""The Airflow components that get a cloud identity of their own, with their access to task logs."""
AIRFLOW_COMPONENT_NAMES = tuple(component for component, _ in AIRFLOW_COMPONENTS)


@dataclass(frozen=True)
class AirflowInstance:
    """One Airflow: the shared one (``team`` None) or a team's own (``teams[].airflow: dedicated``).

    Every name that must differ between two Airflows of one cluster comes from here, so the one
    Airflow construct serves every instance: its namespace (the release is ``airflow`` in each, so
    the chart's labels and service account names stay the same and every policy is per namespace),
    its component identities, its log folder, its folder of kept keys, its database and its role.
    """

    team: str | None = None

    @property
    def dedicated(self) -> bool:
        return self.team is not None

    @property
    def namespace(self) -> str:
        """``airflow``, or ``airflow-<team>`` for a team's own Airflow (also its construct id)."""
        return AIRFLOW_NAMESPACE if self.team is None else f"{AIRFLOW_NAMESPACE}-{self.team}"

    @property
    def folder(self) -> str:
        """Its folder in the log bucket and among the kept keys: the namespace (``airflow/``, ``airflow-analytics/``)."""
        return self.namespace

    @property
    def workloads(self) -> tuple[Workload, ...]:
        return tuple(self.workload(component) for component in AIRFLOW_COMPONENT_NAMES)

    def workload(self, component: str) -> Workload:
        access = dict(AIRFLOW_COMPONENTS)[component]
        # Role names: flightdeck-prod-scheduler, flightdeck-prod-analytics-scheduler.
        name = component if self.team is None else f"{self.team}-{component}"
        return Workload(name=name, namespace=self.namespace, service_account=f"{AIRFLOW_RELEASE}-{component}", log_access=access)

    def database_name(self, shared: str) -> str:
        """Its database on the environment's instance: the shared Airflow's is the instance's own (``shared``)."""
        return shared if self.team is None else f"airflow_{self.team.replace('-', '_')}"

    @property
    def database_user(self) -> str:
        """The role it logs in as, never the instance's master user (``charts/database-roles`` makes it)."""
        return "airflow_app" if self.team is None else f"airflow_{self.team.replace('-', '_')}"

    @property
    def tag(self) -> str:
        """Its ``airflow_instance`` tag in Datadog: ``shared``, or the team's name."""
        return "shared" if self.team is None else self.team

    @property
    def statsd_prefix(self) -> str:
        """Its StatsD prefix: the agent's mapper profile of that prefix tags its metrics with the instance."""
        return "airflow" if self.team is None else f"airflow_{self.team.replace('-', '_')}"


SHARED_AIRFLOW = AirflowInstance()
AIRFLOW_WORKLOADS: tuple[Workload, ...] = SHARED_AIRFLOW.workloads
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

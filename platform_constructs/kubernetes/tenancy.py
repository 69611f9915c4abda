"""Teams: a guarded namespace per team, bound to the team's cloud identity, and admission policies.

Per team: a namespace labelled with the team (Pod Security baseline, quota, default limits,
default-deny network policies that open DNS and HTTPS egress only, so no other team's pods can
reach its pods), a service account that carries the team's cloud identity, and a Role that lets
Airflow's pod launchers run pods there.

``PodPolicies`` then turns namespaces into placement and enforces the labels developers put on
their pods, through Kyverno (a cluster add-on): the project's ``charts/pod-policies`` (deployed from
its local path, so no Kyverno CRD has to exist at plan time) puts every pod created in a task or
team namespace on the workers pool, its team's own pool or the backfill pool (never the system
nodes), keeps Karpenter from disrupting a node under a running task, gives Jobs a default TTL, and
validates ``team`` and ``cost-center`` on every pod in a team namespace (Enforce, or Audit in dev).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from constructs import Construct

if TYPE_CHECKING:
    from cdktf import ITerraformDependable

from ..handles import NetworkHandle, WorkloadIdentity
from ..helm import local_chart_release
from ..placement import BACKFILL_POOL, SYSTEM_POOL, TEAM_LABEL, WORKERS_POOL, NodePool, team_pool
from ..teams import TeamSpec
from ..workloads import Workload
from .addons import KYVERNO_NAMESPACE
from .namespace import DefaultResources, GuardedNamespace, GuardedNamespaceProps, Peer, Port
from .rbac import PodLauncherAccess, PodLauncherAccessProps

POLICIES_CHART = Path(__file__).resolve().parents[2] / "charts" / "pod-policies"
BACKFILL_LABEL = {"flightdeck.io/capacity": "backfill"}
"""The label that sends a task pod to the backfill pool (the pod template of backfill tasks carries it)."""
JOB_TTL_SECONDS = 86400
"""A finished Job (and its pods) is removed after a day unless it says otherwise."""


@dataclass(frozen=True, kw_only=True)
class TeamsProps:
    teams: Sequence[TeamSpec]
    identities: Mapping[str, WorkloadIdentity]
    """The cloud identity of each team's task service account, by team name."""
    launchers: Mapping[str, Sequence[Workload]]
    """By team name: the service accounts of the Airflow that runs the team's DAGs, which start its pods
    there (the shared Airflow's, or the team's own Airflow's: never both)."""
    default_resources: DefaultResources
    network: NetworkHandle
    """The cluster's network: where pods get their cloud credentials."""
    depends_on: Sequence[ITerraformDependable] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        missing = [t.name for t in self.teams if t.name not in self.identities]
        if missing:
            raise ValueError(f"no cloud identity for teams {missing}")
        unlaunched = [t.name for t in self.teams if not self.launchers.get(t.name)]
        if unlaunched:
            raise ValueError(f"no Airflow launches the pods of teams {unlaunched}")


@dataclass(frozen=True, kw_only=True)
class AirflowTaskRule:
    """What Airflow's pod launchers may start in Airflow's own namespace: tasks, reading only these secrets."""

    namespace: str
    launchers: Sequence[Workload]
    component: str
    """The ``component`` label task pods carry (and the network policies keep from PgBouncer)."""
    allowed_secrets: Sequence[str] = ()


def policy_values(
    teams: Sequence[TeamSpec],
    task_namespaces: Sequence[str],
    validation_action: str,
    backfill: NodePool,
    airflow_tasks: Sequence[AirflowTaskRule] = (),
) -> dict[str, Any]:
    """Values of ``charts/pod-policies``: where each namespace's pods go, the team label rules, and each Airflow's task pods."""
    placement = [{"namespace": ns, **_pool(WORKERS_POOL)} for ns in task_namespaces]
    placement += [{"namespace": t.namespace, **_pool(team_pool(t.name) if t.dedicated_nodes else WORKERS_POOL)} for t in teams]
    tasks = [
        {
            "namespace": rule.namespace,
            "component": rule.component,
            "launchers": [{"name": w.service_account, "namespace": w.namespace} for w in rule.launchers],
            "allowedSecrets": list(rule.allowed_secrets),
        }
        for rule in airflow_tasks
    ]
    return {
        "airflowTasks": tasks,
        "validationAction": validation_action,
        "teams": [{"name": t.name, "namespace": t.namespace, "costCenter": t.cost_center} for t in teams],
        "placement": placement,
        "backfill": {"label": BACKFILL_LABEL, **_pool(backfill)},
        "systemTolerations": [{"key": t.key, "value": t.value} for t in (*SYSTEM_POOL.taints, *SYSTEM_POOL.also_tolerated)],
        "jobTtlSeconds": JOB_TTL_SECONDS,
    }


def _pool(pool: NodePool) -> dict[str, Any]:
    return {"nodeSelector": pool.node_selector(), "tolerations": pool.tolerations()}


class Teams(Construct):
    def __init__(self, scope: Construct, id: str, props: TeamsProps) -> None:
        super().__init__(scope, id)
        from cdktf_cdktf_provider_kubernetes.service_account_v1 import ServiceAccountV1, ServiceAccountV1Metadata

        self.namespaces: dict[str, GuardedNamespace] = {}
        for team in props.teams:
            # One construct per team: removing the team from the file removes exactly this subtree.
            scope_ = Construct(self, team.name)
            ns = GuardedNamespace(
                scope_,
                "namespace",
                GuardedNamespaceProps(
                    name=team.namespace,
                    quota=team.quota,
                    default_resources=props.default_resources,
                    labels={TEAM_LABEL: team.name, "cost-center": team.cost_center},
                    depends_on=props.depends_on,
                ),
            )
            # Object storage, the cloud's APIs and whatever the team's containers call over TLS.
            ns.allow_egress("https", to=[Peer.anywhere()], ports=[Port(443)])
            # The team's task service account acts as the team's cloud identity.
            ns.allow_workload_credentials(props.network.workload_credentials)
            identity = props.identities[team.name]
            ServiceAccountV1(
                scope_,
                "service-account",
                metadata=ServiceAccountV1Metadata(
                    name=identity.workload.service_account,
                    namespace=team.namespace,
                    labels=team.labels,
                    annotations=dict(identity.service_account_annotations) or None,
                ),
                automount_service_account_token=False,
                depends_on=[ns.namespace],
            )
            PodLauncherAccess(
                scope_,
                "launchers",
                PodLauncherAccessProps(namespace=team.namespace, launchers=props.launchers[team.name], depends_on=[ns.namespace]),
            )
            self.namespaces[team.name] = ns


@dataclass(frozen=True, kw_only=True)
class PodPoliciesProps:
    teams: Sequence[TeamSpec]
    task_namespaces: Sequence[str]
    """Airflow's task namespaces: their pods go to the workers pool."""
    validation_action: Literal["Enforce", "Audit"] = "Enforce"
    """Enforce rejects pods without the team labels; Audit (dev) only reports them."""
    airflow_tasks: Sequence[AirflowTaskRule] = ()
    """The rules for pods launched in each Airflow's own namespace (always enforced)."""
    depends_on: Sequence[ITerraformDependable] = field(default_factory=tuple)
    """Kyverno and the namespaces the policies name."""


class PodPolicies(Construct):
    """``charts/pod-policies`` (in every environment, with or without teams)."""

    def __init__(self, scope: Construct, id: str, props: PodPoliciesProps) -> None:
        super().__init__(scope, id)
        self.values = policy_values(props.teams, props.task_namespaces, props.validation_action, BACKFILL_POOL, props.airflow_tasks)
        self.release = local_chart_release(
            self,
            "policies",
            chart=POLICIES_CHART,
            release_name="pod-policies",
            namespace=KYVERNO_NAMESPACE,
            values=self.values,
            depends_on=props.depends_on,
        )

"""Teams: a guarded namespace per team, bound to the team's cloud identity, and admission policies.

Per team: a namespace labelled with the team (Pod Security baseline, quota, default limits,
default-deny network policies that open DNS and HTTPS egress only, so no other team's pods can
reach its pods), a service account that carries the team's cloud identity, and a Role that lets
Airflow's pod launchers run pods there.

Kyverno (official chart, pinned) then enforces the labels developers put on their pods and turns
them into placement: the project's ``charts/team-policies`` (deployed from its local path, so no
Kyverno CRD has to exist at plan time) validates ``team`` and ``cost-center`` on every pod in a team
namespace (Enforce, or Audit in dev) and gives pods of a team with dedicated nodes the toleration
and node affinity for them.
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
from ..helm import local_chart_release, to_yaml
from ..placement import SYSTEM_POOL, TEAM_LABEL
from ..teams import TeamSpec
from ..workloads import Workload
from .namespace import DefaultResources, GuardedNamespace, GuardedNamespaceProps, Peer, Port
from .rbac import PodLauncherAccess, PodLauncherAccessProps

KYVERNO_CHART_VERSION = "3.9.0"
KYVERNO_REPOSITORY = "https://kyverno.github.io/kyverno/"
KYVERNO_NAMESPACE = "kyverno"
POLICIES_CHART = Path(__file__).resolve().parents[2] / "charts" / "team-policies"


@dataclass(frozen=True, kw_only=True)
class TeamsProps:
    teams: Sequence[TeamSpec]
    identities: Mapping[str, WorkloadIdentity]
    """The cloud identity of each team's task service account, by team name."""
    launchers: Sequence[Workload]
    """Airflow's service accounts that start task pods."""
    default_resources: DefaultResources
    network: NetworkHandle
    """The cluster's network: where pods get their cloud credentials."""
    validation_action: Literal["Enforce", "Audit"] = "Enforce"
    """Enforce rejects pods without the labels; Audit (dev) only reports them."""
    kyverno_replicas: int = 3
    """Admission controller replicas; one is a single point of failure for every pod creation."""
    depends_on: Sequence[ITerraformDependable] = field(default_factory=tuple)


def kyverno_values(replicas: int) -> dict[str, Any]:
    controllers = {"replicas": min(replicas, 2)}
    return {
        "global": {"nodeSelector": SYSTEM_POOL.node_selector()},
        "admissionController": {"replicas": replicas},
        "backgroundController": controllers,
        "cleanupController": controllers,
        "reportsController": controllers,
    }


def policy_values(teams: Sequence[TeamSpec], validation_action: str) -> dict[str, Any]:
    """Values of ``charts/team-policies``."""
    return {
        "validationAction": validation_action,
        "teams": [
            {"name": t.name, "namespace": t.namespace, "costCenter": t.cost_center, "dedicatedNodes": t.dedicated_nodes}
            for t in teams
        ],
    }


class Teams(Construct):
    def __init__(self, scope: Construct, id: str, props: TeamsProps) -> None:
        super().__init__(scope, id)
        from cdktf_cdktf_provider_helm.release import Release
        from cdktf_cdktf_provider_kubernetes.service_account_v1 import ServiceAccountV1, ServiceAccountV1Metadata

        missing = [t.name for t in props.teams if t.name not in props.identities]
        if missing:
            raise ValueError(f"no cloud identity for teams {missing}")
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
                PodLauncherAccessProps(namespace=team.namespace, launchers=props.launchers, depends_on=[ns.namespace]),
            )
            self.namespaces[team.name] = ns
        if not props.teams:
            return
        kyverno = Release(
            self,
            "kyverno",
            name="kyverno",
            chart="kyverno",
            repository=KYVERNO_REPOSITORY,
            version=KYVERNO_CHART_VERSION,
            namespace=KYVERNO_NAMESPACE,
            create_namespace=True,
            values=[to_yaml(kyverno_values(props.kyverno_replicas))],
            wait=True,
            timeout=600,
            depends_on=list(props.depends_on),
        )
        self.policies = local_chart_release(
            self,
            "policies",
            chart=POLICIES_CHART,
            release_name="team-policies",
            namespace=KYVERNO_NAMESPACE,
            values=policy_values(props.teams, props.validation_action),
            depends_on=[kyverno, *(ns.namespace for ns in self.namespaces.values())],
        )

"""One IAM role per Airflow component, bound to its Kubernetes service account with EKS Pod Identity.

Pod Identity needs no OIDC provider and no annotation on the service account: the association
names the cluster, namespace and service account, and the pod identity agent add-on hands the pod
short-lived credentials for exactly that role.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from constructs import Construct

from ..handles import WorkloadIdentity
from ..teams import TeamSpec
from ..workloads import LogAccess, Workload
from .iam import allow, policy, prefix_access, read_secrets, secret_arn, service_trust
from .kms import KmsKeyHandle


@dataclass(frozen=True, kw_only=True)
class LogBucketAccess:
    bucket_arn: str
    prefix: str
    """Object prefix the workloads may touch (``airflow/``)."""
    key: KmsKeyHandle


@dataclass(frozen=True, kw_only=True)
class PodIdentitiesProps:
    name_prefix: str
    cluster_name: str
    workloads: Sequence[Workload]
    task_logs: LogBucketAccess
    readable_secrets: Sequence[str] = ()
    """ARN patterns of the Airflow's Connections and Variables (its secrets backend's prefixes), which every component reads."""


def log_statements(access: LogAccess, logs: LogBucketAccess) -> list[dict[str, object]]:
    """IAM statements for a workload's access to task logs (pure; unit-tested)."""
    if access is LogAccess.NONE:
        return []
    object_actions = ["s3:GetObject"] + (["s3:PutObject"] if access is LogAccess.WRITE else [])
    key_actions = ["kms:Decrypt"] + (["kms:GenerateDataKey"] if access is LogAccess.WRITE else [])
    return [*prefix_access(logs.bucket_arn, logs.prefix, object_actions), allow(key_actions, [logs.key.arn])]


def bind_pod_identity(
    scope: Construct,
    *,
    workload: Workload,
    role_name: str,
    cluster_name: str,
    inline_policies: Mapping[str, str],
    description: str = "",
    tags: Mapping[str, str] | None = None,
) -> WorkloadIdentity:
    """An IAM role only ``workload``'s service account can assume (EKS Pod Identity), with its inline policies."""
    from cdktf_cdktf_provider_aws.eks_pod_identity_association import EksPodIdentityAssociation
    from cdktf_cdktf_provider_aws.iam_role import IamRole
    from cdktf_cdktf_provider_aws.iam_role_policy import IamRolePolicy

    role = IamRole(
        scope,
        f"{workload.name}-role",
        name=role_name,
        description=description or f"{workload.namespace}/{workload.service_account}",
        assume_role_policy=service_trust("pods.eks.amazonaws.com", tag_session=True),
        tags=dict(tags) if tags else None,
    )
    for policy_name, document in inline_policies.items():
        IamRolePolicy(scope, f"{workload.name}-{policy_name}", role=role.id, name=policy_name, policy=document)
    EksPodIdentityAssociation(
        scope,
        f"{workload.name}-association",
        cluster_name=cluster_name,
        namespace=workload.namespace,
        service_account=workload.service_account,
        role_arn=role.arn,
        tags=dict(tags) if tags else None,
    )
    return WorkloadIdentity(workload=workload, principal=role.arn)


class PodIdentities(Construct):
    def __init__(self, scope: Construct, id: str, props: PodIdentitiesProps) -> None:
        super().__init__(scope, id)
        self.identities: dict[str, WorkloadIdentity] = {}
        for workload in props.workloads:
            statements = log_statements(workload.log_access, props.task_logs)
            policies = {"task-logs": policy(*statements)} if statements else {}
            if props.readable_secrets:
                policies["connections-and-variables"] = policy(read_secrets(props.readable_secrets))
            self.identities[workload.name] = bind_pod_identity(
                self,
                workload=workload,
                role_name=f"{props.name_prefix}-{workload.name}",
                cluster_name=props.cluster_name,
                inline_policies=policies,
                description=f"Airflow {workload.name} ({workload.namespace}/{workload.service_account})",
            )


def team_statements(team: TeamSpec, partition: str, region: str, account_id: str) -> list[dict[str, object]]:
    """IAM statements for a team's task pods: its bucket prefixes and its secrets, nothing else (pure)."""
    statements: list[dict[str, object]] = []
    for grant in team.buckets:
        actions = ["s3:GetObject"] + (["s3:PutObject", "s3:DeleteObject"] if grant.write else [])
        statements += prefix_access(f"arn:{partition}:s3:::{grant.bucket}", grant.prefix, actions)
    if team.secrets:
        statements.append(read_secrets([secret_arn(partition, region, account_id, name) for name in team.secrets]))
    return statements


@dataclass(frozen=True, kw_only=True)
class TeamIdentitiesProps:
    name_prefix: str
    cluster_name: str
    teams: Sequence[TeamSpec]
    partition: str
    region: str
    account_id: str


class TeamIdentities(Construct):
    """One IAM role per team, assumable only by the team's task service account."""

    def __init__(self, scope: Construct, id: str, props: TeamIdentitiesProps) -> None:
        super().__init__(scope, id)
        self.identities: dict[str, WorkloadIdentity] = {}
        for team in props.teams:
            statements = team_statements(team, props.partition, props.region, props.account_id)
            self.identities[team.name] = bind_pod_identity(
                self,
                workload=team.workload,
                role_name=f"{props.name_prefix}-{team.workload.name}",
                cluster_name=props.cluster_name,
                inline_policies={"team-access": policy(*statements)} if statements else {},
                description=f"Tasks of team {team.name} ({team.namespace}/{team.workload.service_account})",
                tags=team.tags,
            )

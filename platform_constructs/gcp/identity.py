"""One Google service account per Airflow component, team and platform service, bound to its
Kubernetes service account with GKE Workload Identity.

The binding is an IAM grant on the Google service account: ``roles/iam.workloadIdentityUser`` for
``serviceAccount:<project>.svc.id.goog[<namespace>/<ksa>]``, so only that Kubernetes service account
may act as it; the Kubernetes side is one annotation (``iam.gke.io/gcp-service-account``) that the
layers above put on the service account.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from constructs import Construct

from ..handles import KeptSecrets, SecretStoreHandle, WorkloadIdentity
from ..teams import BucketGrant, TeamSpec
from ..workloads import EXTERNAL_SECRETS, LogAccess, Workload

if TYPE_CHECKING:
    from cdktf import ITerraformDependable
    from cdktf_cdktf_provider_google.service_account import ServiceAccount

WORKLOAD_IDENTITY_ANNOTATION = "iam.gke.io/gcp-service-account"
SECRET_ACCESSOR = "roles/secretmanager.secretAccessor"
SECRET_KEEPER = "roles/secretmanager.admin"
"""Create, add versions to and read secrets: granted only under the kept keys' prefix (an IAM condition)."""
KEPT_SECRETS_FOLDER = "airflow"
_ACCOUNT_ID_MIN = 6
_ACCOUNT_ID_MAX = 30


def service_account_id(name: str) -> str:
    """A Google service account id for ``name`` (pure): 6 to 30 characters, ``[a-z][a-z0-9-]*[a-z0-9]``.

    A name that does not fit is cut and given a short hash of the whole name, so two long names
    that share their start still get different ids, and the same name always gets the same id
    (``flightdeck-prod-external-secrets`` → ``flightdeck-prod-external-dd6d``).
    """
    cleaned = re.sub(r"-+", "-", re.sub(r"[^a-z0-9-]", "-", name.lower())).strip("-")
    if not cleaned or not cleaned[0].isalpha():
        cleaned = f"sa-{cleaned}".rstrip("-")
    if _ACCOUNT_ID_MIN <= len(cleaned) <= _ACCOUNT_ID_MAX:
        return cleaned
    digest = hashlib.sha256(name.encode()).hexdigest()[:4]
    head = cleaned[: _ACCOUNT_ID_MAX - len(digest) - 1].rstrip("-")
    return f"{head}-{digest}"


def workload_identity_member(project_id: str, workload: Workload) -> str:
    """The IAM principal of a Kubernetes service account in the project's workload identity pool."""
    return f"serviceAccount:{project_id}.svc.id.goog[{workload.namespace}/{workload.service_account}]"


def prefix_condition(bucket: str, prefix: str) -> str:
    """An IAM condition limiting a bucket role to objects under ``prefix`` (pure).

    The second clause lets listing through when the list asks for that prefix only: a list request's
    resource is the bucket, not an object, and Airflow lists a task's log files before reading them.
    """
    quoted = json.dumps
    return (
        f"resource.name.startsWith({quoted(f'projects/_/buckets/{bucket}/objects/{prefix}')})"
        f' || api.getAttribute("storage.googleapis.com/objectListPrefix", "").startsWith({quoted(prefix)})'
    )


@dataclass(frozen=True, kw_only=True)
class BoundServiceAccount:
    account: ServiceAccount
    identity: WorkloadIdentity


def bind_workload_identity(
    scope: Construct,
    *,
    workload: Workload,
    account_name: str,
    project_id: str,
    description: str,
    workload_pool_ready: Sequence[ITerraformDependable],
) -> BoundServiceAccount:
    """A Google service account only ``workload``'s Kubernetes service account can act as (ids ``<workload>-sa``
    and ``<workload>-workload-identity`` in ``scope``)."""
    from cdktf_cdktf_provider_google.service_account import ServiceAccount
    from cdktf_cdktf_provider_google.service_account_iam_member import ServiceAccountIamMember

    account = ServiceAccount(
        scope,
        f"{workload.name}-sa",
        account_id=service_account_id(account_name),
        project=project_id,
        display_name=account_name[:100],
        description=description,
    )
    ServiceAccountIamMember(
        scope,
        f"{workload.name}-workload-identity",
        service_account_id=account.name,
        role="roles/iam.workloadIdentityUser",
        member=workload_identity_member(project_id, workload),
        # The project's workload identity pool exists only once a cluster with Workload Identity does;
        # IAM refuses members of a pool that does not exist yet.
        depends_on=list(workload_pool_ready),
    )
    return BoundServiceAccount(
        account=account,
        identity=WorkloadIdentity(
            workload=workload,
            principal=account.email,
            service_account_annotations={WORKLOAD_IDENTITY_ANNOTATION: account.email},
        ),
    )


def grant_bucket(
    scope: Construct, id: str, *, bucket: str, member: str, write: bool, prefix: str, title: str
) -> None:
    """``roles/storage.objectViewer`` (or ``objectUser`` to write) on ``bucket``, limited to ``prefix`` unless empty."""
    from cdktf_cdktf_provider_google.storage_bucket_iam_member import (
        StorageBucketIamMember,
        StorageBucketIamMemberCondition,
    )

    StorageBucketIamMember(
        scope,
        id,
        bucket=bucket,
        # objectUser: read, create, overwrite and delete objects, no bucket or IAM changes.
        role="roles/storage.objectUser" if write else "roles/storage.objectViewer",
        member=member,
        condition=StorageBucketIamMemberCondition(
            title=title[:100],
            description=f"objects under {prefix} only",
            expression=prefix_condition(bucket, prefix),
        )
        if prefix
        else None,
    )


def grant_secret(scope: Construct, id: str, *, secret_id: str, project_id: str, member: str) -> None:
    """Read access to exactly one Secret Manager secret."""
    from cdktf_cdktf_provider_google.secret_manager_secret_iam_member import SecretManagerSecretIamMember

    SecretManagerSecretIamMember(scope, id, secret_id=secret_id, project=project_id, role=SECRET_ACCESSOR, member=member)


@dataclass(frozen=True, kw_only=True)
class LogBucketAccess:
    bucket: str
    prefix: str
    """Object prefix the workloads may touch (``airflow/``)."""


@dataclass(frozen=True, kw_only=True)
class WorkloadIdentitiesProps:
    name_prefix: str
    """Google service accounts are named ``<name_prefix>-<workload>`` (shortened to 30 characters)."""
    project_id: str
    workloads: Sequence[Workload]
    task_logs: LogBucketAccess
    workload_pool_ready: Sequence[ITerraformDependable]
    """The cluster: the workload identity pool must exist before anything is bound to it."""
    readable_secret_prefixes: Sequence[str] = ()
    """Secret id prefixes of the Airflow's Connections and Variables (its secrets backend's), which every component reads."""
    project_number: str = ""
    """The project's number (Secret Manager's resource names use it); needed with ``readable_secret_prefixes``."""

    def __post_init__(self) -> None:
        if self.readable_secret_prefixes and not self.project_number:
            raise ValueError("readable_secret_prefixes need the project's number (Secret Manager names secrets by it)")


def secret_prefix_condition(project_number: str, prefixes: Sequence[str]) -> str:
    """An IAM condition limiting a Secret Manager role to secrets whose id starts with one of ``prefixes`` (pure)."""
    return " || ".join(f'resource.name.startsWith("projects/{project_number}/secrets/{prefix}")' for prefix in prefixes)


class WorkloadIdentities(Construct):
    """One Google service account per Airflow component, with the task-log access its ``LogAccess`` says."""

    def __init__(self, scope: Construct, id: str, props: WorkloadIdentitiesProps) -> None:
        super().__init__(scope, id)
        self.identities: dict[str, WorkloadIdentity] = {}
        for workload in props.workloads:
            bound = bind_workload_identity(
                self,
                workload=workload,
                account_name=f"{props.name_prefix}-{workload.name}",
                project_id=props.project_id,
                description=f"Airflow {workload.name} ({workload.namespace}/{workload.service_account})",
                workload_pool_ready=props.workload_pool_ready,
            )
            if workload.log_access is not LogAccess.NONE:
                grant_bucket(
                    self,
                    f"{workload.name}-task-logs",
                    bucket=props.task_logs.bucket,
                    member=bound.account.member,
                    write=workload.log_access is LogAccess.WRITE,
                    prefix=props.task_logs.prefix,
                    title=f"{workload.name} task logs",
                )
            if props.readable_secret_prefixes:
                from cdktf_cdktf_provider_google.project_iam_member import ProjectIamMember, ProjectIamMemberCondition

                ProjectIamMember(
                    self,
                    f"{workload.name}-connections-and-variables",
                    project=props.project_id,
                    role=SECRET_ACCESSOR,
                    member=bound.account.member,
                    condition=ProjectIamMemberCondition(
                        title=f"{workload.name}: its Airflow's connections and variables"[:100],
                        expression=secret_prefix_condition(props.project_number, props.readable_secret_prefixes),
                    ),
                )
            self.identities[workload.name] = bound.identity


@dataclass(frozen=True, kw_only=True)
class TeamIdentitiesProps:
    name_prefix: str
    project_id: str
    teams: Sequence[TeamSpec]
    workload_pool_ready: Sequence[ITerraformDependable]


def team_bucket_grants(team: TeamSpec) -> list[tuple[str, BucketGrant]]:
    """Each of a team's bucket grants with its construct id, named after bucket and prefix so that
    reordering the grants in the configuration changes nothing (pure)."""
    grants: dict[str, BucketGrant] = {}
    for grant in team.buckets:
        prefix = re.sub(r"[^A-Za-z0-9_-]+", "-", grant.prefix).strip("-")
        grant_id = f"{team.name}-bucket-{grant.bucket}" + (f"-{prefix}" if prefix else "")
        if grant_id in grants:
            raise ValueError(f"team {team.name} is granted bucket {grant.bucket} prefix {grant.prefix!r} twice; keep one grant")
        grants[grant_id] = grant
    return list(grants.items())


class TeamIdentities(Construct):
    """One Google service account per team, usable only by the team's task service account: its bucket
    prefixes and its secrets, nothing else."""

    def __init__(self, scope: Construct, id: str, props: TeamIdentitiesProps) -> None:
        super().__init__(scope, id)
        self.identities: dict[str, WorkloadIdentity] = {}
        for team in props.teams:
            bound = bind_workload_identity(
                self,
                workload=team.workload,
                account_name=f"{props.name_prefix}-{team.workload.name}",
                project_id=props.project_id,
                description=f"Tasks of team {team.name} ({team.namespace}/{team.workload.service_account})",
                workload_pool_ready=props.workload_pool_ready,
            )
            for grant_id, grant in team_bucket_grants(team):
                grant_bucket(
                    self,
                    grant_id,
                    bucket=grant.bucket,
                    member=bound.account.member,
                    write=grant.write,
                    prefix=grant.prefix,
                    title=f"team {team.name}",
                )
            for secret in team.secrets:
                grant_secret(self, f"{team.name}-secret-{secret}", secret_id=secret, project_id=props.project_id, member=bound.account.member)
            self.identities[team.name] = bound.identity


@dataclass(frozen=True, kw_only=True)
class SecretSyncIdentityProps:
    name_prefix: str
    project_id: str
    database_secret_id: str
    """The database credentials' secret (a reference to the secret this stack creates)."""
    readable_secret_names: Sequence[str] = ()
    """Other Secret Manager secrets (by id) the operator may read: the DAG repository's credentials …"""
    workload_pool_ready: Sequence[ITerraformDependable]
    project_number: str
    """The project's number: the kept keys' grant is conditioned on their resource names, which use it."""


class SecretSyncIdentity(Construct):
    """The External Secrets Operator's Google service account: it may read exactly the listed secrets."""

    def __init__(self, scope: Construct, id: str, props: SecretSyncIdentityProps) -> None:
        super().__init__(scope, id)
        bound = bind_workload_identity(
            self,
            workload=EXTERNAL_SECRETS,
            account_name=f"{props.name_prefix}-{EXTERNAL_SECRETS.name}",
            project_id=props.project_id,
            description="External Secrets Operator: reads Airflow's secrets from Secret Manager",
            workload_pool_ready=props.workload_pool_ready,
        )
        member = bound.account.member
        grant_secret(self, "read-database-secret", secret_id=props.database_secret_id, project_id=props.project_id, member=member)
        for name in props.readable_secret_names:
            grant_secret(self, f"read-secret-{name}", secret_id=name, project_id=props.project_id, member=member)
        # Airflow's generated keys: the operator creates them once under a prefix of its own and reads them back.
        from cdktf_cdktf_provider_google.project_iam_member import ProjectIamMember, ProjectIamMemberCondition

        kept = f"{props.name_prefix}-{KEPT_SECRETS_FOLDER}-"
        ProjectIamMember(
            self,
            "keep-generated-keys",
            project=props.project_id,
            role=SECRET_KEEPER,
            member=member,
            condition=ProjectIamMemberCondition(
                title="Airflow's generated keys only",
                expression=f'resource.name.startsWith("projects/{props.project_number}/secrets/{kept}")',
            ),
        )
        self.secret_store = SecretStoreHandle(
            # No auth block: the operator's controller pod authenticates with its own Workload Identity.
            provider={"gcpsm": {"projectID": props.project_id}},
            identity=bound.identity,
            keeps=KeptSecrets(prefix=kept),
        )


@dataclass(frozen=True, kw_only=True)
class DnsIdentityProps:
    name_prefix: str
    project_id: str
    managed_zone: str
    workload_pool_ready: Sequence[ITerraformDependable]


class DnsIdentity(Construct):
    """ExternalDNS's Google service account: it may change the records of one managed zone only."""

    def __init__(self, scope: Construct, id: str, props: DnsIdentityProps) -> None:
        super().__init__(scope, id)
        from cdktf_cdktf_provider_google.dns_managed_zone_iam_member import DnsManagedZoneIamMember

        from ..kubernetes.addons import EXTERNAL_DNS

        bound = bind_workload_identity(
            self,
            workload=EXTERNAL_DNS,
            account_name=f"{props.name_prefix}-{EXTERNAL_DNS.name}",
            project_id=props.project_id,
            description="ExternalDNS: writes the Airflow UIs' records in one private zone",
            workload_pool_ready=props.workload_pool_ready,
        )
        # roles/dns.admin on the zone alone (record changes, and reading the zone ExternalDNS looks up).
        DnsManagedZoneIamMember(
            self, "change-ui-records", project=props.project_id, managed_zone=props.managed_zone, role="roles/dns.admin", member=bound.account.member
        )
        self.identity = bound.identity

"""RBAC that lets Airflow launch task pods and Jobs in a namespace, and nothing more.

The chart's own Roles cover Airflow's namespace (KubernetesExecutor workers, its pod and job
launchers). For each extra task namespace and each team namespace, a Role there lets the named
service accounts run pods (KubernetesPodOperator: create, watch, read logs, delete afterwards) and
Jobs (KubernetesJobOperator: business logic that keeps running through an Airflow outage, with its
status). ``pods/exec`` stays because both operators read a task's XCom result by exec into the
``airflow-xcom-sidecar`` container (``do_xcom_push=True``) and then stop the sidecar.
No ClusterRole: Airflow cannot touch namespaces that are not listed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from constructs import Construct

if TYPE_CHECKING:
    from cdktf import ITerraformDependable

from ..shapes import metadata_argument, metadata_of
from ..workloads import Workload

Rule = tuple[str, Sequence[str], Sequence[str]]
"""(API group, resources, verbs) of one RBAC rule."""

POD_LAUNCHER_RULES: tuple[Rule, ...] = (
    ("", ("pods",), ("create", "delete", "get", "list", "patch", "watch")),
    ("", ("pods/log",), ("get", "list")),
    ("", ("pods/exec",), ("create", "get")),
    ("", ("events",), ("get", "list", "watch")),
    ("batch", ("jobs",), ("create", "delete", "get", "list", "patch", "watch")),
    ("batch", ("jobs/status",), ("get", "watch")),
)
"""(API group, resources, verbs): what the pod and Job operators do with their pods and Jobs."""


@dataclass(frozen=True, kw_only=True)
class PodLauncherAccessProps:
    namespace: str
    launchers: Sequence[Workload]
    """Service accounts (in their own namespaces) that may run pods in ``namespace``."""
    depends_on: Sequence[ITerraformDependable] = ()


def bound_role(
    scope: Construct,
    *,
    name: str,
    namespace: str,
    rules: Sequence[Rule],
    subjects: Sequence[tuple[str, str]],
    depends_on: Sequence[ITerraformDependable] = (),
) -> None:
    """A Role in ``namespace`` with ``rules``, bound to the service accounts ``(namespace, name)`` (ids ``role``, ``binding``)."""
    from cdktf_cdktf_provider_kubernetes.role_binding_v1 import (
        RoleBindingV1,
        RoleBindingV1Metadata,
        RoleBindingV1RoleRef,
        RoleBindingV1Subject,
    )
    from cdktf_cdktf_provider_kubernetes.role_v1 import RoleV1, RoleV1Metadata, RoleV1Rule

    role = RoleV1(
        scope,
        "role",
        metadata=metadata_argument(RoleV1, RoleV1Metadata(name=name, namespace=namespace)),
        rule=[RoleV1Rule(api_groups=[group], resources=list(resources), verbs=list(verbs)) for group, resources, verbs in rules],
        depends_on=list(depends_on) or None,
    )
    RoleBindingV1(
        scope,
        "binding",
        metadata=RoleBindingV1Metadata(name=name, namespace=namespace),
        role_ref=RoleBindingV1RoleRef(api_group="rbac.authorization.k8s.io", kind="Role", name=metadata_of(role).name),
        subject=[RoleBindingV1Subject(kind="ServiceAccount", name=account, namespace=ns) for ns, account in subjects],
    )


class PodLauncherAccess(Construct):
    def __init__(self, scope: Construct, id: str, props: PodLauncherAccessProps) -> None:
        super().__init__(scope, id)
        bound_role(
            self,
            name="airflow-pod-launcher",
            namespace=props.namespace,
            rules=POD_LAUNCHER_RULES,
            subjects=[(w.namespace, w.service_account) for w in props.launchers],
            depends_on=props.depends_on,
        )

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

from ..workloads import Workload

POD_LAUNCHER_RULES: tuple[tuple[str, tuple[str, ...], tuple[str, ...]], ...] = (
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


class PodLauncherAccess(Construct):
    def __init__(self, scope: Construct, id: str, props: PodLauncherAccessProps) -> None:
        super().__init__(scope, id)
        from cdktf_cdktf_provider_kubernetes.role_binding_v1 import (
            RoleBindingV1,
            RoleBindingV1Metadata,
            RoleBindingV1RoleRef,
            RoleBindingV1Subject,
        )
        from cdktf_cdktf_provider_kubernetes.role_v1 import RoleV1, RoleV1Metadata, RoleV1Rule

        role = RoleV1(
            self,
            "role",
            metadata=RoleV1Metadata(name="airflow-pod-launcher", namespace=props.namespace),
            rule=[
                RoleV1Rule(api_groups=[group], resources=list(resources), verbs=list(verbs))
                for group, resources, verbs in POD_LAUNCHER_RULES
            ],
            depends_on=list(props.depends_on) or None,
        )
        RoleBindingV1(
            self,
            "binding",
            metadata=RoleBindingV1Metadata(name="airflow-pod-launcher", namespace=props.namespace),
            role_ref=RoleBindingV1RoleRef(api_group="rbac.authorization.k8s.io", kind="Role", name=role.metadata.name),
            subject=[
                RoleBindingV1Subject(kind="ServiceAccount", name=w.service_account, namespace=w.namespace)
                for w in props.launchers
            ],
        )

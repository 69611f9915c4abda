"""RBAC that lets Airflow launch task pods in a namespace, and nothing more.

The chart's own Role covers Airflow's namespace (KubernetesExecutor workers). For each extra task
namespace listed in the environment file, a Role there lets the named service accounts run pods
(KubernetesPodOperator): create, watch, read logs, exec for XCom, and delete them afterwards.
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

POD_LAUNCHER_RULES: tuple[tuple[tuple[str, ...], tuple[str, ...]], ...] = (
    (("pods",), ("create", "delete", "get", "list", "patch", "watch")),
    (("pods/log",), ("get", "list")),
    (("pods/exec",), ("create", "get")),
    (("events",), ("get", "list", "watch")),
)


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
                RoleV1Rule(api_groups=[""], resources=list(resources), verbs=list(verbs))
                for resources, verbs in POD_LAUNCHER_RULES
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

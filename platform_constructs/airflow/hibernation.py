"""Hibernation: Airflow scaled to zero on a schedule, and back, so an idle environment costs little.

Two CronJobs in Airflow's namespace, run as a service account whose Role may read Deployments and
change their scale there and nothing else. ``sleep`` records each Deployment's replicas in an
annotation and scales it to zero; ``wake`` scales each back to what it recorded. With the scheduler
gone no task pod starts, so Karpenter removes the empty task nodes. The script runs in the Airflow
image (its ``kubernetes`` client comes with the cncf.kubernetes provider), so no other image is
pulled. A deploy while asleep wakes Airflow: Helm sets the replicas again.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from constructs import Construct

from ..kubernetes.rbac import Rule, bound_role
from ..placement import SYSTEM_POOL

if TYPE_CHECKING:
    from cdktf import ITerraformDependable

SERVICE_ACCOUNT = "airflow-hibernation"
AWAKE_REPLICAS = "flightdeck.io/awake-replicas"

SCRIPT = f"""\
import sys
from kubernetes import client, config

config.load_incluster_config()
apps = client.AppsV1Api()
namespace, action = sys.argv[1], sys.argv[2]
for deployment in apps.list_namespaced_deployment(namespace).items:
    name = deployment.metadata.name
    if action == "sleep":
        if deployment.spec.replicas:
            apps.patch_namespaced_deployment(
                name, namespace, {{"metadata": {{"annotations": {{"{AWAKE_REPLICAS}": str(deployment.spec.replicas)}}}}}}
            )
        apps.patch_namespaced_deployment_scale(name, namespace, {{"spec": {{"replicas": 0}}}})
    else:
        awake = (deployment.metadata.annotations or {{}}).get("{AWAKE_REPLICAS}")
        if awake:
            apps.patch_namespaced_deployment_scale(name, namespace, {{"spec": {{"replicas": int(awake)}}}})
    print(action, name)
"""
"""What each CronJob runs (``python -c SCRIPT <namespace> sleep|wake``)."""

RULES: tuple[Rule, ...] = (
    ("apps", ("deployments",), ("get", "list", "patch")),
    ("apps", ("deployments/scale",), ("get", "patch", "update")),
)
"""(API group, resources, verbs): reading Deployments, annotating them, changing their scale."""


@dataclass(frozen=True, kw_only=True)
class HibernationProps:
    namespace: str
    image: str
    sleep: str
    wake: str
    time_zone: str = "UTC"
    pod_labels: Mapping[str, str]
    """Labels of the CronJobs' pods (the namespace's policies let them reach the Kubernetes API)."""
    depends_on: Sequence[ITerraformDependable] = ()

    def __post_init__(self) -> None:
        if self.sleep == self.wake:
            raise ValueError(f"hibernation sleeps and wakes at the same time ({self.sleep})")


class Hibernation(Construct):
    def __init__(self, scope: Construct, id: str, props: HibernationProps) -> None:
        super().__init__(scope, id)
        from cdktf_cdktf_provider_kubernetes import cron_job_v1 as cron
        from cdktf_cdktf_provider_kubernetes.service_account_v1 import ServiceAccountV1, ServiceAccountV1Metadata

        depends = list(props.depends_on) or None
        account = ServiceAccountV1(
            self, "service-account", metadata=ServiceAccountV1Metadata(name=SERVICE_ACCOUNT, namespace=props.namespace), depends_on=depends
        )
        bound_role(
            self,
            name=SERVICE_ACCOUNT,
            namespace=props.namespace,
            rules=RULES,
            subjects=[(props.namespace, SERVICE_ACCOUNT)],
            depends_on=props.depends_on,
        )
        for action, schedule in (("sleep", props.sleep), ("wake", props.wake)):
            container = cron.CronJobV1SpecJobTemplateSpecTemplateSpecContainer(
                name=action,
                image=props.image,
                args=["python", "-c", SCRIPT, props.namespace, action],
                resources=cron.CronJobV1SpecJobTemplateSpecTemplateSpecContainerResources(
                    requests={"cpu": "50m", "memory": "256Mi"}, limits={"memory": "256Mi"}
                ),
                security_context=cron.CronJobV1SpecJobTemplateSpecTemplateSpecContainerSecurityContext(
                    allow_privilege_escalation=False,
                    capabilities=cron.CronJobV1SpecJobTemplateSpecTemplateSpecContainerSecurityContextCapabilities(drop=["ALL"]),
                ),
            )
            cron.CronJobV1(
                self,
                action,
                metadata=cron.CronJobV1Metadata(name=f"airflow-{action}", namespace=props.namespace),
                spec=cron.CronJobV1Spec(
                    schedule=schedule,
                    timezone=props.time_zone,
                    concurrency_policy="Forbid",
                    successful_jobs_history_limit=1,
                    failed_jobs_history_limit=3,
                    job_template=cron.CronJobV1SpecJobTemplate(
                        metadata=cron.CronJobV1SpecJobTemplateMetadata(),
                        spec=cron.CronJobV1SpecJobTemplateSpec(
                            backoff_limit=3,
                            ttl_seconds_after_finished="86400",
                            template=cron.CronJobV1SpecJobTemplateSpecTemplate(
                                metadata=cron.CronJobV1SpecJobTemplateSpecTemplateMetadata(labels={**props.pod_labels, "component": "hibernation"}),
                                spec=cron.CronJobV1SpecJobTemplateSpecTemplateSpec(
                                    service_account_name=SERVICE_ACCOUNT,
                                    restart_policy="OnFailure",
                                    node_selector=SYSTEM_POOL.node_selector(),
                                    toleration=[cron.CronJobV1SpecJobTemplateSpecTemplateSpecToleration(**t) for t in SYSTEM_POOL.tolerations()],
                                    security_context=cron.CronJobV1SpecJobTemplateSpecTemplateSpecSecurityContext(
                                        run_as_non_root=True,
                                        seccomp_profile=cron.CronJobV1SpecJobTemplateSpecTemplateSpecSecurityContextSeccompProfile(
                                            type="RuntimeDefault"
                                        ),
                                    ),
                                    container=[container],
                                ),
                            ),
                        ),
                    ),
                ),
                depends_on=[account],
            )

"""AirflowRelease: everything Airflow needs on the cluster, in dependency order.

1. Guarded namespaces (Airflow's own and the task namespaces) with network policies and RBAC.
2. After the cluster add-ons (the External Secrets Operator among them, see
   ``kubernetes/addons.py``), the project's ``synced-secrets`` chart (secret store, generators,
   ExternalSecrets) from a local path, so no CRD has to exist at plan time.
3. The official Airflow chart, waiting for its migration job so a deploy only succeeds once the
   schema is migrated and every component rolled out.
"""

from __future__ import annotations

import hashlib
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from constructs import Construct

from ..handles import ClusterHandle, NetworkHandle, WorkloadIdentity
from ..helm import synced_secrets, to_yaml
from ..kubernetes.addons import KEDA_NAMESPACE, KEDA_OPERATOR
from ..kubernetes.namespace import DefaultResources, GuardedNamespace, GuardedNamespaceProps, Peer, Port, QuotaSpec
from ..kubernetes.rbac import PodLauncherAccess, PodLauncherAccessProps
from ..kubernetes.tenancy import AirflowTaskRule
from ..placement import SYSTEM_POOL
from ..workloads import AIRFLOW_RELEASE
from .hibernation import Hibernation, HibernationProps
from .secrets import AirflowSecretsProps, secrets_values
from .values import (
    API_SERVER_PORT,
    CHART,
    CHART_REPOSITORY,
    CHART_VERSION,
    DATABASE_COMPONENTS,
    PGBOUNCER_PORT,
    STATSD_PORT,
    TASK_COMPONENT,
    AirflowValuesProps,
    airflow_values,
    task_secrets,
    uses_celery,
)

REDIS_PORT = 6379
WORKER_LOG_PORT = 8793
TRIGGERER_LOG_PORT = 8794

if TYPE_CHECKING:
    from cdktf import ITerraformDependable

AIRFLOW_PODS = {"tier": "airflow", "release": AIRFLOW_RELEASE}
"""Labels the chart puts on every Airflow pod, task pods included."""


def component(name: str) -> dict[str, str]:
    return {"component": name, "release": AIRFLOW_RELEASE}


@dataclass(frozen=True, kw_only=True)
class AirflowReleaseProps:
    cluster: ClusterHandle
    network: NetworkHandle
    values: AirflowValuesProps
    secrets: AirflowSecretsProps
    quota: QuotaSpec
    task_namespaces: Sequence[str]
    """Namespaces where KubernetesPodOperator may run pods."""
    launchers: Sequence[WorkloadIdentity]
    """Identities that launch task pods (scheduler, workers, triggerer)."""
    addons: Sequence[ITerraformDependable] = ()
    """The cluster add-ons' releases (the External Secrets Operator, the ingress controller …)."""
    timeout_seconds: int = 1200
    """How long a deploy waits for migrations and rollout before it fails."""
    pools: Mapping[str, int] = field(default_factory=dict)
    """Airflow pools to create or resize after each deploy (``team-<name>`` → slots)."""
    hibernation: HibernationSchedule | None = None
    """Scale Airflow to zero on a schedule and back (dev); None: always on."""
    before: Sequence[ITerraformDependable] = ()
    """What must be in place before the release and its migration: the database roles (``DatabaseRoles``)."""

    def __post_init__(self) -> None:
        namespace = self.values.namespace
        if namespace in self.task_namespaces:
            raise ValueError(f"task namespace '{namespace}' is Airflow's own namespace; list only extra namespaces")


@dataclass(frozen=True, kw_only=True)
class HibernationSchedule:
    sleep: str
    wake: str
    time_zone: str = "UTC"


class AirflowRelease(Construct):
    def __init__(self, scope: Construct, id: str, props: AirflowReleaseProps) -> None:
        super().__init__(scope, id)
        from cdktf_cdktf_provider_helm.release import Release

        namespace = props.values.namespace
        ready = list(props.cluster.ready)
        defaults = DefaultResources(cpu=props.values.task_resources.cpu, memory=props.values.task_resources.memory)

        airflow_ns = GuardedNamespace(
            self,
            "namespace",
            GuardedNamespaceProps(name=namespace, quota=props.quota, default_resources=defaults, depends_on=ready),
        )
        self._airflow_flows(airflow_ns, props)
        self.namespace = namespace
        # What the launchers may start here, for the admission policies (charts/pod-policies).
        self.task_rule = AirflowTaskRule(
            namespace=namespace,
            launchers=[identity.workload for identity in props.launchers],
            component=TASK_COMPONENT,
            allowed_secrets=task_secrets(props.values),
        )
        self.task_namespaces = []
        for task_ns in props.task_namespaces:
            guarded = GuardedNamespace(
                self,
                f"tasks-{task_ns}",
                GuardedNamespaceProps(name=task_ns, quota=props.quota, default_resources=defaults, depends_on=ready),
            )
            guarded.allow_egress("https", to=[Peer.anywhere()], ports=[Port(443)])
            # Pod-operator pods may run as a service account with a cloud identity.
            guarded.allow_workload_credentials(props.network.workload_credentials)
            PodLauncherAccess(
                self,
                f"tasks-{task_ns}-launchers",
                PodLauncherAccessProps(
                    namespace=task_ns,
                    launchers=[identity.workload for identity in props.launchers],
                    depends_on=[guarded.namespace],
                ),
            )
            self.task_namespaces.append(guarded)

        secrets = synced_secrets(
            self,
            "secrets",
            release_name="airflow-secrets",
            namespace=namespace,
            values=secrets_values(props.secrets),
            depends_on=[*props.addons, airflow_ns.namespace],
        )
        before: list[ITerraformDependable] = [secrets, *props.before]
        self.release = Release(
            self,
            "release",
            name=AIRFLOW_RELEASE,
            chart=CHART,
            repository=CHART_REPOSITORY,
            version=CHART_VERSION,
            namespace=namespace,
            values=[to_yaml(airflow_values(props.values))],
            # Wait for every Deployment and for the migration Job: success means migrated and rolled out.
            wait=True,
            wait_for_jobs=True,
            timeout=props.timeout_seconds,
            cleanup_on_fail=True,
            max_history=10,
            depends_on=[*before, *props.addons, *(guarded.namespace for guarded in self.task_namespaces)],
        )
        if props.pools:
            self._pools(props)
        if props.hibernation is not None:
            Hibernation(
                self,
                "hibernation",
                HibernationProps(
                    namespace=namespace,
                    image=f"{props.values.image_repository}:{props.values.image_tag}",
                    sleep=props.hibernation.sleep,
                    wake=props.hibernation.wake,
                    time_zone=props.hibernation.time_zone,
                    pod_labels={"release": AIRFLOW_RELEASE},
                    depends_on=[self.release],
                ),
            )

    def _pools(self, props: AirflowReleaseProps) -> None:
        """A Job that sets every pool once the release is up; its name changes with the pools, so
        Terraform replaces it (Jobs are immutable) exactly when a pool is added or resized."""
        from cdktf_cdktf_provider_kubernetes import job_v1 as job

        script = " && ".join(
            f"airflow pools set {shlex.quote(name)} {slots} {shlex.quote(f'Flightdeck: {name}')}"
            for name, slots in sorted(props.pools.items())
        )
        digest = hashlib.sha256(script.encode()).hexdigest()[:10]
        values = props.values
        container = job.JobV1SpecTemplateSpecContainer(
            name="pools",
            image=f"{values.image_repository}:{values.image_tag}",
            args=["bash", "-c", script],
            env=[
                job.JobV1SpecTemplateSpecContainerEnv(
                    name="AIRFLOW__DATABASE__SQL_ALCHEMY_CONN",
                    value_from=job.JobV1SpecTemplateSpecContainerEnvValueFrom(
                        secret_key_ref=job.JobV1SpecTemplateSpecContainerEnvValueFromSecretKeyRef(
                            name=values.secrets.metadata, key="connection"
                        )
                    ),
                )
            ],
            resources=job.JobV1SpecTemplateSpecContainerResources(
                requests={"cpu": "100m", "memory": "512Mi"}, limits={"memory": "512Mi"}
            ),
            security_context=job.JobV1SpecTemplateSpecContainerSecurityContext(
                allow_privilege_escalation=False,
                capabilities=job.JobV1SpecTemplateSpecContainerSecurityContextCapabilities(drop=["ALL"]),
            ),
        )
        job.JobV1(
            self,
            "pools",
            metadata=job.JobV1Metadata(name=f"airflow-pools-{digest}", namespace=values.namespace, labels=component("pools")),
            spec=job.JobV1Spec(
                backoff_limit=3,
                ttl_seconds_after_finished="3600",
                template=job.JobV1SpecTemplate(
                    # The ``pools`` component is one of those the namespace's policies let reach PgBouncer.
                    metadata=job.JobV1SpecTemplateMetadata(labels={**AIRFLOW_PODS, "component": "pools"}),
                    spec=job.JobV1SpecTemplateSpec(
                        restart_policy="Never",
                        node_selector=SYSTEM_POOL.node_selector(),
                        toleration=[job.JobV1SpecTemplateSpecToleration(**t) for t in SYSTEM_POOL.tolerations()],
                        security_context=job.JobV1SpecTemplateSpecSecurityContext(
                            run_as_non_root=True,
                            seccomp_profile=job.JobV1SpecTemplateSpecSecurityContextSeccompProfile(type="RuntimeDefault"),
                        ),
                        container=[container],
                    ),
                ),
            ),
            wait_for_completion=True,
            timeouts=job.JobV1Timeouts(create="10m", update="10m"),
            depends_on=[self.release],
        )

    @staticmethod
    def _airflow_flows(ns: GuardedNamespace, props: AirflowReleaseProps) -> None:
        """The only connections Airflow's namespace allows, each named for its reason."""

        def flow(name: str, target: str, ports: Sequence[Port]) -> None:
            ns.allow_egress(name, to=[Peer(pod_labels=component(target))], ports=ports, pods=AIRFLOW_PODS)
            ns.allow_ingress(name, sources=[Peer(pod_labels=AIRFLOW_PODS)], ports=ports, pods=component(target))

        # The metadata database, through PgBouncer, for the components that use it and never for task pods.
        users = [*DATABASE_COMPONENTS, "pools", *(["worker"] if uses_celery(props.values.executor) else [])]
        for user in users:
            ns.allow_egress(f"pgbouncer-{user}", to=[Peer(pod_labels=component("pgbouncer"))], ports=[Port(PGBOUNCER_PORT)], pods=component(user))
        ns.allow_ingress(
            "pgbouncer", sources=[Peer(pod_labels=component(user)) for user in users], ports=[Port(PGBOUNCER_PORT)], pods=component("pgbouncer")
        )
        # Airflow 3 task pods report through the API server's execution API.
        flow("api-server", "api-server", [Port(API_SERVER_PORT)])
        sink = props.values.metrics
        if sink is None:
            flow("statsd", "statsd", [Port(STATSD_PORT, "UDP")])
        else:
            # Metrics leave the namespace for the agent on the same node; the agent's namespace admits them.
            ns.allow_egress(
                "statsd",
                to=[Peer(namespace=sink.namespace, pod_labels=sink.pod_labels)],
                ports=[Port(sink.port, "UDP")],
                pods=AIRFLOW_PODS,
            )
        flow("worker-logs", "worker", [Port(WORKER_LOG_PORT)])
        flow("triggerer-logs", "triggerer", [Port(TRIGGERER_LOG_PORT)])
        if uses_celery(props.values.executor):
            flow("redis", "redis", [Port(REDIS_PORT)])
            # KEDA's Airflow scaler counts queued tasks in the metadata database, through PgBouncer.
            ns.allow_ingress(
                "pgbouncer-from-keda",
                sources=[Peer(namespace=KEDA_NAMESPACE, pod_labels=KEDA_OPERATOR)],
                ports=[Port(PGBOUNCER_PORT)],
                pods=component("pgbouncer"),
            )
        ns.allow_egress(
            "database",
            to=[Peer(cidr=cidr) for cidr in props.network.database_cidrs],
            ports=[Port(props.values.database.port)],
            pods=component("pgbouncer"),
        )
        # Object storage for logs, the cloud's APIs, the Kubernetes API and the DAG repository.
        ns.allow_egress("https", to=[Peer.anywhere()], ports=[Port(443)])
        # Every Airflow component writes or reads task logs with its own cloud identity.
        ns.allow_workload_credentials(props.network.workload_credentials)
        # The UI only through the load balancer (its proxies and health checks; on AWS inside the VPC).
        ns.allow_ingress(
            "ui-from-load-balancer",
            sources=[Peer(cidr=cidr) for cidr in props.network.load_balancer_sources],
            ports=[Port(API_SERVER_PORT)],
            pods=component("api-server"),
        )

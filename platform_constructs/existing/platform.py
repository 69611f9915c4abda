"""ExistingCluster: an environment on a Kubernetes cluster its owners run (an SRE team's, or kind).

Flightdeck creates no cloud resources here. It reaches the cluster through a kubeconfig, connects
Airflow to a PostgreSQL server the owners provide, and reads the secrets the file names (database
credentials, DAG repository, Datadog key) from one namespace the owners keep them in. The External
Secrets Operator's Kubernetes provider copies them into Airflow's namespace, through the same
secret pipeline as on a cloud: a SecretStore per namespace that authenticates as a service account
which may ``get`` exactly those secrets.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from constructs import Construct

from ..handles import (
    CloudPlatform,
    ClusterHandle,
    DatabaseHandle,
    IngressHandle,
    Kubeconfig,
    LogStore,
    NetworkHandle,
    SecretStoreHandle,
    WorkloadIdentity,
)
from ..placement import SYSTEM_POOL, WORKERS_POOL
from ..shapes import metadata_argument, metadata_of
from ..workloads import AIRFLOW_WORKLOADS, EXTERNAL_SECRETS, Workload, team_workload

SECRET_READER = "flightdeck-secret-reader"
"""The service account each SecretStore authenticates as (created next to the store by ``charts/synced-secrets``)."""


@dataclass(frozen=True, kw_only=True)
class ExistingDatabaseProps:
    host: str
    port: int
    name: str
    secret: str
    """Kubernetes secret in ``secrets_namespace`` with ``username`` and ``password``."""
    cidrs: Sequence[str]
    tls: str = "require"


@dataclass(frozen=True, kw_only=True)
class ExistingLogsProps:
    remote_base_log_folder: str
    connection_id: str


@dataclass(frozen=True, kw_only=True)
class ExistingClusterProps:
    kubeconfig_path: str
    context: str
    secrets_namespace: str
    """Where the owners keep the secrets named below; Flightdeck only reads them."""
    readable_secrets: Sequence[str]
    """Secrets besides the database's that Airflow and the agent read (DAG repository, Datadog key)."""
    store_namespaces: Sequence[str]
    """Namespaces with a SecretStore (Airflow's, the monitoring agent's): their reader may read the secrets."""
    database: ExistingDatabaseProps
    nodes_cidr: str
    pods_cidr: str
    ingress_class: str
    task_logs: ExistingLogsProps | None = None
    teams: Sequence[str] = ()
    """Team names: each team's task service account, with no cloud identity."""

    def __post_init__(self) -> None:
        if self.secrets_namespace in self.store_namespaces:
            raise ValueError(
                f"secrets_namespace '{self.secrets_namespace}' is also a namespace Flightdeck manages; keep the owners' secrets apart"
            )


class ExistingCluster(Construct):
    def __init__(self, scope: Construct, id: str, props: ExistingClusterProps) -> None:
        super().__init__(scope, id)
        from cdktf_cdktf_provider_kubernetes.role_binding_v1 import (
            RoleBindingV1,
            RoleBindingV1Metadata,
            RoleBindingV1RoleRef,
            RoleBindingV1Subject,
        )
        from cdktf_cdktf_provider_kubernetes.role_v1 import RoleV1, RoleV1Metadata, RoleV1Rule

        secrets = sorted({props.database.secret, *props.readable_secrets})
        # The operator's Kubernetes provider reads secrets by name through the API, so ``get`` on exactly these.
        role = RoleV1(
            self,
            "secret-reader",
            metadata=metadata_argument(RoleV1, RoleV1Metadata(name=SECRET_READER, namespace=props.secrets_namespace)),
            rule=[RoleV1Rule(api_groups=[""], resources=["secrets"], resource_names=secrets, verbs=["get"])],
        )
        RoleBindingV1(
            self,
            "secret-reader-binding",
            metadata=RoleBindingV1Metadata(name=SECRET_READER, namespace=props.secrets_namespace),
            role_ref=RoleBindingV1RoleRef(api_group="rbac.authorization.k8s.io", kind="Role", name=metadata_of(role).name),
            subject=[
                RoleBindingV1Subject(kind="ServiceAccount", name=SECRET_READER, namespace=namespace)
                for namespace in props.store_namespaces
            ],
        )
        cluster = ClusterHandle(
            name=props.context,
            node_pools=(SYSTEM_POOL, WORKERS_POOL),
            kubeconfig=Kubeconfig(path=props.kubeconfig_path, context=props.context),
            connect_command=f"kubectl config use-context {props.context}",
        )
        database = props.database
        logs = props.task_logs
        self.platform = CloudPlatform(
            cluster=cluster,
            identities={w.name: _plain(w) for w in AIRFLOW_WORKLOADS},
            database=DatabaseHandle(
                host=database.host,
                port=database.port,
                database_name=database.name,
                username="",
                credentials_secret=database.secret,
                metrics=None,
                tls=database.tls,
                # The owners' database: its Airflow version is kept in the cluster (kubernetes/schema_record.py).
                keeps_airflow_version=False,
            ),
            log_store=LogStore(
                bucket=logs.remote_base_log_folder.split("://", 1)[1].split("/", 1)[0],
                remote_base_log_folder=logs.remote_base_log_folder,
                connection_id=logs.connection_id,
                connection_uri=None,
            )
            if logs is not None
            else None,
            image_repository=None,
            network=NetworkHandle(
                vpc_cidr=props.nodes_cidr,
                database_cidrs=tuple(database.cidrs),
                load_balancer_cidrs=(props.pods_cidr, props.nodes_cidr),
            ),
            secret_store=SecretStoreHandle(
                provider={
                    "kubernetes": {
                        "remoteNamespace": props.secrets_namespace,
                        # The API server's CA, as every namespace has it; the token is the reader's.
                        "server": {"caProvider": {"type": "ConfigMap", "name": "kube-root-ca.crt", "key": "ca.crt"}},
                        "auth": {"serviceAccount": {"name": SECRET_READER}},
                    }
                },
                identity=_plain(EXTERNAL_SECRETS),
                service_account=SECRET_READER,
            ),
            ingress=IngressHandle(
                class_name=props.ingress_class,
                internal_annotations={},
                public_annotations={},
                tls_annotation=None,
                source_ranges_annotation=None,
            ),
            team_identities={team: _plain(team_workload(team)) for team in props.teams},
        )


def _plain(workload: Workload) -> WorkloadIdentity:
    """A service account with no cloud identity (the cluster's owners grant anything beyond Kubernetes)."""
    return WorkloadIdentity(workload=workload, principal=f"system:serviceaccount:{workload.namespace}:{workload.service_account}")


"""AwsPlatform: one environment's AWS foundation, returned to the stack as handles.

Composes the KMS key, the VPC, the EKS cluster and node groups, one pod identity per Airflow
component, the RDS metadata database, the task-log bucket, the image repository, and what reaches
the private API endpoint: the CI runner inside the VPC and, on request, a bastion. The stack sets
the provider and the backend.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Literal

from cdktf import Aspects
from constructs import Construct

from ..handles import CloudPlatform, CredentialEndpoint, DedicatedAirflow, NetworkHandle, SecretsBackend
from ..teams import TeamSpec
from ..workloads import SHARED_AIRFLOW, AirflowInstance, Workload
from .cluster_services import ClusterServices, ClusterServicesProps, HostedZone
from .database import DatabaseOptions, PostgresDatabase, PostgresDatabaseProps
from .eks import EksCluster, EksClusterOptions, EksClusterProps
from .iam import PermissionsBoundary, secret_arn
from .identity import LogBucketAccess, PodIdentities, PodIdentitiesProps, TeamIdentities, TeamIdentitiesProps
from .karpenter import PROVISIONING_FAILURES, Karpenter, KarpenterPool, KarpenterProps
from .kms import PlatformKey, PlatformKeyProps
from .network import FlowLogSettings, Network, NetworkProps
from .runner import Bastion, BastionProps, ClusterApiAccess, DeployRunner, DeployRunnerOptions, DeployRunnerProps
from .storage import ImageRepository, ImageRepositoryProps, LogBucket, LogBucketProps

POD_IDENTITY_AGENT = CredentialEndpoint(cidr="169.254.170.23/32", port=80)
"""The EKS Pod Identity agent, on every node's host network: the AWS SDKs in pods with a pod identity get credentials here."""


@dataclass(frozen=True, kw_only=True)
class NetworkSettings:
    cidr: str
    zones: int
    nat_gateways: Literal["single", "per_az"]
    flow_logs: bool
    flow_log_retention_days: int = 90


@dataclass(frozen=True, kw_only=True)
class ClusterSettings(EksClusterOptions):
    """The cluster's options (``EksClusterOptions``), and what the platform adds around it."""

    karpenter_pools: Sequence[KarpenterPool] = ()
    """Task capacity (workers, backfill, teams' dedicated nodes), launched by Karpenter."""
    node_image: str = "al2023@v20251110"
    """The AMI alias of the nodes Karpenter launches (pinned)."""
    controller_replicas: int = 2
    """Replicas of the cluster's own controllers (the load balancer controller, Karpenter): leader-elected,
    so a second one takes over within seconds; one is enough in dev."""
    bastion: bool = False
    """A Session Manager host in the private subnets that can reach the API endpoint (off by default)."""


@dataclass(frozen=True, kw_only=True)
class AwsPlatformProps:
    name: str
    """Prefix of every resource name and the cluster's name (``flightdeck-prod``)."""
    account_id: str
    region: str
    tags: Mapping[str, str]
    """The environment's tags (the provider's default tags), also put on what Karpenter launches."""
    network: NetworkSettings
    cluster: ClusterSettings
    database: DatabaseOptions
    log_bucket_name: str
    log_expire_after_days: int
    image_repository_name: str
    workloads: Sequence[Workload]
    """Kubernetes service accounts that get an IAM role of their own."""
    partition: str = "aws"
    image_keep_untagged_days: int = 14
    readable_secret_names: Sequence[str] = ()
    """Secrets Manager secrets (by name) that Airflow's secret sync may read besides the database's."""
    teams: Sequence[TeamSpec] = ()
    """Each gets an IAM role for its task pods (its node group, if any, is in ``cluster.node_groups``)."""
    runner: DeployRunnerOptions | None = None
    """The CI runner inside the VPC that deploys the cluster stack; None: no CI (no ``bootstrap.yaml``)."""
    permissions_boundary: str | None = None
    """The managed policy every role here carries (the CI deployer creates roles only with it); None: no CI."""
    dedicated_airflows: Sequence[AirflowInstance] = ()
    """Teams' own Airflows: each gets its component roles, its log folder and its folder of kept keys."""
    dns_zone: HostedZone | None = None
    """The private hosted zone of the UIs' records (ExternalDNS); None: records are made by hand."""


def identities_id(instance: AirflowInstance) -> str:
    """The construct id of an Airflow's identities: the shared one's keeps its first name, so its roles keep their addresses."""
    return "pod-identities" if instance.team is None else f"{instance.namespace}-identities"


def kept_prefix(name: str, instance: AirflowInstance) -> str:
    """Where an Airflow's generated keys are kept in Secrets Manager: ``<name>/<folder>/`` (``flightdeck-prod/airflow/fernet-key``)."""
    return f"{name}/{instance.folder}/"


SECRETS_MANAGER_BACKEND = "airflow.providers.amazon.aws.secrets.secrets_manager.SecretsManagerBackend"


def secrets_backend(name: str, instance: AirflowInstance, region: str) -> SecretsBackend:
    """An Airflow's Connections and Variables in Secrets Manager, beside (not among) its kept keys:
    ``<name>/<folder>/connections/<id>`` and ``…/variables/<key>`` (a URI, or JSON of the connection's fields)."""
    connections, variables = f"{name}/{instance.folder}/connections", f"{name}/{instance.folder}/variables"
    return SecretsBackend(
        classpath=SECRETS_MANAGER_BACKEND,
        kwargs={"connections_prefix": connections, "variables_prefix": variables, "region_name": region},
        connections=f"{connections}/<conn_id>",
        variables=f"{variables}/<key>",
    )


def backend_secret_arns(partition: str, region: str, account_id: str, backend: SecretsBackend) -> list[str]:
    """What an Airflow's identities may read: exactly its backend's two prefixes."""
    return [
        f"arn:{partition}:secretsmanager:{region}:{account_id}:secret:{backend.kwargs[key]}/*"
        for key in ("connections_prefix", "variables_prefix")
    ]


class AwsPlatform(Construct):
    def __init__(self, scope: Construct, id: str, props: AwsPlatformProps) -> None:
        super().__init__(scope, id)
        if props.permissions_boundary is not None:
            Aspects.of(self).add(PermissionsBoundary(props.permissions_boundary))
        key = PlatformKey(
            self,
            "key",
            PlatformKeyProps(name=props.name, account_id=props.account_id, region=props.region, partition=props.partition),
        ).handle
        network = Network(
            self,
            "network",
            NetworkProps(
                name=props.name,
                cidr=props.network.cidr,
                zones=props.network.zones,
                nat_gateways=props.network.nat_gateways,
                cluster_name=props.name,
                flow_logs=FlowLogSettings(retention_days=props.network.flow_log_retention_days, key=key, partition=props.partition)
                if props.network.flow_logs
                else None,
            ),
        )
        cluster = EksCluster(
            self,
            "eks",
            EksClusterProps.of(
                props.cluster,
                name=props.name,
                subnet_ids=network.private_subnet_ids,
                encryption_key=key,
                region=props.region,
                node_pools=[spec.pool for spec in props.cluster.karpenter_pools],
                partition=props.partition,
            ),
        )
        # EKS's own security group on the API server and the nodes: the database, Karpenter and the
        # runner's and bastion's rules all refer to it.
        cluster_security_group = cluster.cluster.vpc_config.cluster_security_group_id
        logs = LogBucket(
            self,
            "task-logs",
            LogBucketProps(name=props.log_bucket_name, key=key, region=props.region, expire_after_days=props.log_expire_after_days),
        )
        backends = {
            instance: secrets_backend(props.name, instance, props.region) for instance in (SHARED_AIRFLOW, *props.dedicated_airflows)
        }
        # One set of roles per Airflow, bound to its namespace, reaching only its log folder and its
        # secrets backend's prefixes: the shared one's (``pod-identities``), then each team's own.
        identity_sets = {
            instance: PodIdentities(
                self,
                identities_id(instance),
                PodIdentitiesProps(
                    name_prefix=props.name,
                    cluster_name=cluster.cluster.name,
                    workloads=props.workloads if instance.team is None else instance.workloads,
                    task_logs=LogBucketAccess(bucket_arn=logs.bucket.arn, prefix=f"{instance.folder}/", key=key),
                    readable_secrets=backend_secret_arns(props.partition, props.region, props.account_id, backends[instance]),
                ),
            )
            for instance in backends
        }
        identities = identity_sets[SHARED_AIRFLOW]
        dedicated_identities = {instance: own for instance, own in identity_sets.items() if instance.team is not None}
        teams = TeamIdentities(
            self,
            "team-identities",
            TeamIdentitiesProps(
                name_prefix=props.name,
                cluster_name=cluster.cluster.name,
                teams=props.teams,
                partition=props.partition,
                region=props.region,
                account_id=props.account_id,
            ),
        )
        database = PostgresDatabase(
            self,
            "database",
            PostgresDatabaseProps.of(
                props.database,
                identifier=props.name,
                vpc_id=network.vpc.id,
                subnet_ids=network.database_subnet_ids,
                client_security_group_id=cluster_security_group,
                key=key,
                partition=props.partition,
            ),
        )
        images = ImageRepository(
            self,
            "images",
            ImageRepositoryProps(name=props.image_repository_name, key=key, keep_untagged_days=props.image_keep_untagged_days),
        )
        services = ClusterServices(
            self,
            "cluster-services",
            ClusterServicesProps(
                name_prefix=props.name,
                cluster_name=cluster.cluster.name,
                region=props.region,
                vpc_id=network.vpc.id,
                key=key,
                controller_replicas=props.cluster.controller_replicas,
                dns_zone=props.dns_zone,
                partition=props.partition,
                readable_secret_arns=[
                    database.handle.credentials_secret,
                    *(
                        secret_arn(props.partition, props.region, props.account_id, name)
                        for name in props.readable_secret_names
                    ),
                ],
                kept_prefix=kept_prefix(props.name, SHARED_AIRFLOW),
                kept_secret_arns=[
                    f"arn:{props.partition}:secretsmanager:{props.region}:{props.account_id}:secret:{kept_prefix(props.name, instance)}*"
                    for instance in (SHARED_AIRFLOW, *props.dedicated_airflows)
                ],
            ),
        )
        karpenter = Karpenter(
            self,
            "karpenter",
            KarpenterProps(
                cluster_name=props.name,
                cluster_arn=cluster.cluster.arn,
                cluster_security_group_id=cluster_security_group,
                region=props.region,
                account_id=props.account_id,
                key=key,
                pools=props.cluster.karpenter_pools,
                node_image=props.cluster.node_image,
                tags=props.tags,
                partition=props.partition,
                controller_replicas=props.cluster.controller_replicas,
            ),
        )
        api_access = ClusterApiAccess(
            vpc_id=network.vpc.id,
            subnet_ids=network.private_subnet_ids,
            cluster_security_group_id=cluster_security_group,
        )
        self.runner = (
            DeployRunner(
                self,
                "runner",
                DeployRunnerProps(
                    **vars(props.runner),
                    access=api_access,
                    key=key,
                    region=props.region,
                    account_id=props.account_id,
                    partition=props.partition,
                ),
            )
            if props.runner is not None
            else None
        )
        self.bastion = (
            Bastion(
                self,
                "bastion",
                BastionProps(
                    name=f"{props.name}-bastion",
                    access=api_access,
                    region=props.region,
                    cluster_endpoint=cluster.cluster.endpoint,
                    partition=props.partition,
                ),
            )
            if props.cluster.bastion
            else None
        )
        self.key = key
        self.network = network
        self.eks = cluster
        self.pod_identities = identities
        self.platform = CloudPlatform(
            cluster=cluster.handle,
            identities=identities.identities,
            database=database.handle,
            log_store=logs.handle,
            image_repository=images.handle,
            network=NetworkHandle(
                vpc_cidr=props.network.cidr,
                database_cidrs=network.layout.database,
                workload_credentials=(POD_IDENTITY_AGENT,),
            ),
            secret_store=services.secret_store,
            ingress=services.ingress,
            cluster_addons=(
                services.load_balancer_controller,
                *karpenter.charts(),
                *((services.external_dns,) if services.external_dns else ()),
            ),
            team_identities=teams.identities,
            secrets_backend=backends[SHARED_AIRFLOW],
            provisioning_failures=PROVISIONING_FAILURES,
            dedicated_airflows={
                str(instance.team): DedicatedAirflow.of(
                    instance,
                    own.identities,
                    logs.handle.in_folder(instance.folder),
                    replace(services.secret_store.keeps, prefix=kept_prefix(props.name, instance)) if services.secret_store.keeps else None,
                    backends[instance],
                )
                for instance, own in dedicated_identities.items()
            },
        )

"""DatadogAgent: the official ``datadog`` chart, its namespace guardrails and its API key.

* The node agent runs on every node (it tolerates every NoSchedule taint, so tainted worker and
  team pools are watched too) and receives Airflow's StatsD on a node-local Service (DogStatsD,
  UDP 8125) with the Airflow mapper profile installed.
* The cluster agent runs the kube-state-metrics core check (pod phases, restarts, requests).
* The API key never passes through Terraform: the External Secrets Operator syncs it from the
  cloud's secret store into ``datadog-api-key`` (``charts/synced-secrets``), and the chart reads it
  from there (``apiKeyExistingSecret``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from constructs import Construct

if TYPE_CHECKING:
    from cdktf import ITerraformDependable

from ..handles import ClusterHandle, NetworkHandle, ScrapeTarget, SecretStoreHandle, StatsdSink
from ..helm import from_store, secret_store, synced_secrets, to_yaml
from ..kubernetes.namespace import DefaultResources, GuardedNamespace, GuardedNamespaceProps, Peer, Port, QuotaSpec
from ..placement import SYSTEM_POOL
from .mapper import SHARED_PROFILE, mapper_profiles

CHART = "datadog"
CHART_REPOSITORY = "https://helm.datadoghq.com"
CHART_VERSION = "3.240.0"
NAMESPACE = "datadog"
RELEASE = "datadog"
API_KEY_SECRET = "datadog-api-key"
DOGSTATSD_PORT = 8125
CLUSTER_AGENT_PORT = 5005
KUBELET_PORT = 10250
AGENT_PODS = {"app": RELEASE}
"""Labels the chart gives node-agent pods (``app: <release fullname>``)."""
CLUSTER_AGENT_PODS = {"app": f"{RELEASE}-cluster-agent"}

# Requests per pod; the quota below is sized from them and the cluster's largest node count.
AGENT_RESOURCES = {"requests": {"cpu": "200m", "memory": "256Mi"}, "limits": {"memory": "512Mi"}}
CLUSTER_AGENT_RESOURCES = {"requests": {"cpu": "100m", "memory": "256Mi"}, "limits": {"memory": "512Mi"}}
SIDECAR_RESOURCES = {"requests": {"cpu": "50m", "memory": "128Mi"}, "limits": {"memory": "256Mi"}}


def statsd_sink() -> StatsdSink:
    """Where Airflow sends StatsD: the chart's node-local Service, so metrics stay on the node."""
    return StatsdSink(
        host=f"{RELEASE}.{NAMESPACE}.svc.cluster.local",
        port=DOGSTATSD_PORT,
        namespace=NAMESPACE,
        pod_labels=AGENT_PODS,
        # Autodiscovery: the agent tails exactly the containers annotated so (Airflow's components),
        # and runs the checks annotated so (Karpenter's metrics).
        log_annotation="ad.datadoghq.com/{container}.logs",
        check_annotation="ad.datadoghq.com/{container}.checks",
    )


@dataclass(frozen=True, kw_only=True)
class DatadogAgentProps:
    cluster: ClusterHandle
    network: NetworkHandle
    secret_store: SecretStoreHandle
    site: str
    """Datadog site (``datadoghq.eu``)."""
    api_key_secret: str
    """Cloud secret holding ``{"api_key": "…"}``."""
    tags: Mapping[str, str]
    """Host tags on everything the agents send (env, team, cost-center, service)."""
    max_nodes: int
    """Largest node count the cluster can reach: one agent per node, the quota is sized from it."""
    cluster_agent_replicas: int = 1
    """Two or more keep the kube-state metrics flowing through a node drain (with a disruption budget)."""
    statsd_clients: Sequence[str] = ()
    """Namespaces whose pods may send StatsD to the agents (every Airflow's)."""
    statsd_prefixes: Mapping[str, Mapping[str, str]] = field(default_factory=lambda: dict(SHARED_PROFILE))
    """Every Airflow's StatsD prefix, with the tags its metrics get (``airflow_instance``, and ``team`` for a team's own)."""
    scrape_targets: Sequence[ScrapeTarget] = ()
    """Controllers whose metrics endpoints the agents scrape (the egress to exactly them is allowed)."""
    depends_on: Sequence[ITerraformDependable] = field(default_factory=tuple)
    """The External Secrets Operator release (the API key needs its CRDs)."""

    def __post_init__(self) -> None:
        if self.max_nodes < 1:
            raise ValueError(f"max_nodes is {self.max_nodes}; the cluster needs at least one node for the agent")


def agent_values(props: DatadogAgentProps) -> dict[str, Any]:
    """Values of the ``datadog`` chart for one environment."""
    tags = [f"{key}:{value}" for key, value in sorted(props.tags.items())]
    replicas = props.cluster_agent_replicas
    return {
        "datadog": {
            "site": props.site,
            "apiKeyExistingSecret": API_KEY_SECRET,
            "clusterName": props.cluster.name,
            "tags": tags,
            "kubeStateMetricsCore": {"enabled": True},
            "kubeStateMetricsEnabled": False,
            # Developers label pods with team and cost center; those labels become Datadog tags.
            "podLabelsAsTags": {"team": "team", "cost-center": "cost_center"},
            "namespaceLabelsAsTags": {"team": "team"},
            "collectEvents": True,
            "dogstatsd": {
                "port": DOGSTATSD_PORT,
                "nonLocalTraffic": True,
                "useHostPort": False,
                "tags": tags,
            },
            "env": [{"name": "DD_DOGSTATSD_MAPPER_PROFILES", "value": mapper_profiles(props.statsd_prefixes)}],
            # Airflow's own components' logs (the pods annotated for it, see statsd_sink); task logs go to
            # the log bucket, so nothing else is collected.
            "logs": {"enabled": True, "containerCollectAll": False},
        },
        "clusterAgent": {
            "enabled": True,
            "replicas": replicas,
            "createPodDisruptionBudget": replicas > 1,
            "nodeSelector": SYSTEM_POOL.node_selector(),
            "tolerations": SYSTEM_POOL.tolerations(),
            "resources": CLUSTER_AGENT_RESOURCES,
            # No mutating webhook: Airflow is told where the agent is, nothing is injected into pods.
            "admissionController": {"enabled": False},
            "metricsProvider": {"enabled": False},
        },
        "agents": {
            "tolerations": [{"operator": "Exists", "effect": "NoSchedule"}],
            "localService": {"forceLocalServiceEnabled": True},
            "priorityClassCreate": True,
            "containers": {
                "agent": {"resources": AGENT_RESOURCES},
                "traceAgent": {"resources": SIDECAR_RESOURCES},
                "processAgent": {"resources": SIDECAR_RESOURCES},
            },
        },
    }


def agent_quota(props: DatadogAgentProps) -> QuotaSpec:
    """Room for an agent on every node the cluster can reach, the cluster agents and a rollout of each.

    The namespace quota caps requests and memory limits with one figure, so it is sized from the
    limits (the larger): a node agent pod is 1 GiB (agent 512 Mi, two sidecars 256 Mi), a cluster
    agent 512 Mi; CPU from requests (300m and 100m).
    """
    cluster_agents = 2 * props.cluster_agent_replicas  # a rolling update briefly doubles them
    cpu = props.max_nodes * 300 + cluster_agents * 100 + 500
    memory = props.max_nodes * 1024 + cluster_agents * 512 + 512
    return QuotaSpec(cpu=f"{cpu}m", memory=f"{memory}Mi", pods=props.max_nodes + cluster_agents + 2)


class DatadogAgent(Construct):
    def __init__(self, scope: Construct, id: str, props: DatadogAgentProps) -> None:
        super().__init__(scope, id)
        from cdktf_cdktf_provider_helm.release import Release

        ready = list(props.cluster.ready)
        # The node agent reads host paths and the host's process table: Pod Security "privileged".
        self.namespace = GuardedNamespace(
            self,
            "namespace",
            GuardedNamespaceProps(
                name=NAMESPACE,
                quota=agent_quota(props),
                default_resources=DefaultResources(cpu="50m", memory="128Mi"),
                enforce="privileged",
                warn="privileged",
                depends_on=ready,
            ),
        )
        self._flows(props)
        secret = synced_secrets(
            self,
            "api-key",
            release_name="datadog-secrets",
            namespace=NAMESPACE,
            values={
                "secretStore": secret_store(props.secret_store),
                "generators": [],
                "externalSecrets": [from_store(API_KEY_SECRET, props.api_key_secret, {"api-key": "{{ .api_key }}"})],
            },
            depends_on=[*props.depends_on, self.namespace.namespace],
        )
        self.release = Release(
            self,
            "release",
            name=RELEASE,
            chart=CHART,
            repository=CHART_REPOSITORY,
            version=CHART_VERSION,
            namespace=NAMESPACE,
            values=[to_yaml(agent_values(props))],
            wait=True,
            timeout=600,
            depends_on=[secret],
        )

    def _flows(self, props: DatadogAgentProps) -> None:
        ns = self.namespace
        # The Datadog intake and the Kubernetes API.
        ns.allow_egress("https", to=[Peer.anywhere()], ports=[Port(443)])
        # Node agents read pod and container metrics from the kubelet of their node.
        ns.allow_egress("kubelet", to=[Peer(cidr=props.network.vpc_cidr)], ports=[Port(KUBELET_PORT)], pods=AGENT_PODS)
        ns.allow_egress(
            "cluster-agent", to=[Peer(pod_labels=CLUSTER_AGENT_PODS)], ports=[Port(CLUSTER_AGENT_PORT)], pods=AGENT_PODS
        )
        ns.allow_ingress(
            "cluster-agent",
            sources=[Peer(pod_labels=AGENT_PODS)],
            ports=[Port(CLUSTER_AGENT_PORT)],
            pods=CLUSTER_AGENT_PODS,
        )
        for target in props.scrape_targets:
            ns.allow_egress(
                f"scrape-{target.check}",
                to=[Peer(namespace=target.namespace, pod_labels=target.pod_labels)],
                ports=[Port(target.port)],
                pods=AGENT_PODS,
            )
        if props.statsd_clients:
            ns.allow_ingress(
                "dogstatsd",
                sources=[Peer(namespace=client) for client in props.statsd_clients],
                ports=[Port(DOGSTATSD_PORT, "UDP")],
                pods=AGENT_PODS,
            )

"""The kubernetes and helm providers of a cluster stack, configured from the cluster's handle.

Endpoint and CA are outputs of the environment's platform stack (read through its remote state);
credentials come from an exec plugin at every Terraform run (``aws eks get-token``,
``gke-gcloud-auth-plugin``), so no token is ever stored in state. Because the cluster exists
before the cluster stack plans, replacing the cluster is an ordinary deploy of both stacks in
order. A cluster someone else runs is reached through its kubeconfig file and context instead.
"""

from __future__ import annotations

from dataclasses import dataclass

from constructs import Construct

from platform_constructs.handles import ClusterHandle


@dataclass(frozen=True, kw_only=True)
class ClusterProvidersProps:
    cluster: ClusterHandle

    def __post_init__(self) -> None:
        # Refused as the props are made, before the bindings load.
        cluster = self.cluster
        if cluster.kubeconfig is None and (cluster.endpoint is None or cluster.credentials is None):
            raise ValueError(f"cluster {cluster.name} has neither a kubeconfig nor an endpoint and credentials")


class ClusterProviders(Construct):
    def __init__(self, scope: Construct, id: str, props: ClusterProvidersProps) -> None:
        super().__init__(scope, id)
        from cdktf import Fn, TerraformStack
        from cdktf_cdktf_provider_helm.provider import HelmProvider, HelmProviderKubernetes, HelmProviderKubernetesExec
        from cdktf_cdktf_provider_kubernetes.provider import KubernetesProvider, KubernetesProviderExec

        stack = TerraformStack.of(self)
        cluster = props.cluster
        if cluster.kubeconfig is not None:
            kubeconfig = cluster.kubeconfig
            self.kubernetes = KubernetesProvider(stack, "kubernetes", config_path=kubeconfig.path, config_context=kubeconfig.context)
            self.helm = HelmProvider(
                stack,
                "helm",
                kubernetes=HelmProviderKubernetes(config_path=kubeconfig.path, config_context=kubeconfig.context),
            )
            return
        credentials = cluster.credentials
        assert cluster.endpoint is not None and credentials is not None  # the props refuse a handle without them
        # No CA: the endpoint's certificate is publicly trusted (GKE's DNS-based endpoint).
        ca_certificate = Fn.base64decode(cluster.ca_certificate_base64) if cluster.ca_certificate_base64 else None
        self.kubernetes = KubernetesProvider(
            stack,
            "kubernetes",
            host=cluster.endpoint,
            cluster_ca_certificate=ca_certificate,
            exec=[
                KubernetesProviderExec(
                    api_version=credentials.api_version,
                    command=credentials.command,
                    args=list(credentials.args),
                    env=dict(credentials.env) or None,
                )
            ],
        )
        self.helm = HelmProvider(
            stack,
            "helm",
            kubernetes=HelmProviderKubernetes(
                host=cluster.endpoint,
                cluster_ca_certificate=ca_certificate,
                exec=HelmProviderKubernetesExec(
                    api_version=credentials.api_version,
                    command=credentials.command,
                    args=list(credentials.args),
                    env=dict(credentials.env) or None,
                ),
            ),
        )

"""The kubernetes and helm providers, configured from the cluster created in the same stack.

Endpoint and CA come from the cluster resource; credentials come from an exec plugin at every
Terraform run (``aws eks get-token``, ``gke-gcloud-auth-plugin``), so no token is ever stored in
state. One ``cdktf deploy`` creates the cluster and then everything on it. A cluster someone else
runs is reached through its kubeconfig file and context instead.

Known limit: a change that replaces the cluster itself cannot be planned together with the
resources on it (their provider points at a cluster that does not exist yet). Such a change is
applied in two steps, see the README.
"""

from __future__ import annotations

from dataclasses import dataclass

from constructs import Construct

from ..handles import ClusterHandle


@dataclass(frozen=True, kw_only=True)
class ClusterProvidersProps:
    cluster: ClusterHandle


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
        if cluster.endpoint is None or cluster.ca_certificate_base64 is None or credentials is None:
            raise ValueError(f"cluster {cluster.name} has neither a kubeconfig nor an endpoint, CA and credentials")
        ca_certificate = Fn.base64decode(cluster.ca_certificate_base64)
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

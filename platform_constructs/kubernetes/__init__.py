"""Cloud-neutral Kubernetes layer: providers from a ClusterHandle, guarded namespaces, RBAC, network policies.

Only typed kubernetes-provider resources (no ``kubernetes_manifest``, which needs a live cluster at
plan time), so ``cdktf diff`` works against an account where the cluster does not exist yet.
"""

"""An EKS cluster with its managed add-ons and the ``system`` and ``workers`` node groups.

Defaults a careful operator expects: a pinned Kubernetes version, secrets envelope-encrypted with
the environment's KMS key, api/audit/authenticator logs kept in CloudWatch, API authentication mode
with access entries (no aws-auth ConfigMap), managed add-ons only, the VPC CNI's network policy
agent on, and nodes that require IMDSv2 with a hop limit of 1 so pods cannot borrow the node's role.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Literal

from constructs import Construct

from ..handles import ClusterHandle, ExecCredentials
from ..placement import SYSTEM_POOL, NodePool
from .iam import allow, attachable_policy, policy, service_trust
from .kms import KmsKeyHandle

if TYPE_CHECKING:
    from cdktf import ITerraformDependable
    from cdktf_cdktf_provider_aws.eks_addon import EksAddon
    from cdktf_cdktf_provider_aws.eks_node_group import EksNodeGroup
    from cdktf_cdktf_provider_aws.eks_pod_identity_association import EksPodIdentityAssociation
    from cdktf_cdktf_provider_aws.iam_role import IamRole

CONTROL_PLANE_LOGS = ("api", "audit", "authenticator")

# Add-ons the nodes need before they can become Ready (networking, identity) are installed before
# the node groups; the ones that run as pods on the nodes (DNS, the EBS driver) after them, or
# their creation waits on pods that cannot be scheduled.
ADDONS_BEFORE_NODES = ("vpc-cni", "kube-proxy", "eks-pod-identity-agent")
ADDONS_AFTER_NODES = ("coredns", "aws-ebs-csi-driver")
CONTAINER_LOG_GROUPS = ("application", "dataplane", "host")
"""The log groups the CloudWatch Observability add-on's Fluent Bit writes (containers, kubelet, node)."""

CLUSTER_ADMIN_POLICY = "arn:{partition}:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"


@dataclass(frozen=True, kw_only=True)
class NodeGroupSpec:
    pool: NodePool
    instance_types: Sequence[str]
    min_size: int
    desired_size: int
    max_size: int
    disk_size_gib: int
    """Each node's root volume; its default is the configuration's (``NodeGroup.disk_size_gib``), declared once there."""
    capacity_type: Literal["ON_DEMAND", "SPOT"] = "ON_DEMAND"
    ami_type: str = "AL2023_x86_64_STANDARD"
    """Amazon Linux 2023: the supported successor of AL2 (whose EKS AMIs end with Kubernetes 1.32)."""
    tags: Mapping[str, str] = field(default_factory=dict)
    """Tags over the provider's defaults (a team's node group carries the team and its cost center)."""


@dataclass(frozen=True, kw_only=True)
class EksClusterOptions:
    """What an environment decides about its cluster (version, system nodes, API access, logs, admins, add-ons);
    ``EksClusterProps`` adds where it runs. Declared once: the platform takes these as they are."""

    kubernetes_version: str
    node_groups: Sequence[NodeGroupSpec]
    """Managed node groups (the system pool); task capacity comes from Karpenter (``karpenter.py``)."""
    endpoint_public_access: bool = False
    """False: the API server is reachable only from inside the VPC."""
    public_access_cidrs: Sequence[str] = ()
    log_retention_days: int = 90
    """How long the control plane's logs (and, with ``container_logs``, the containers') are kept."""
    container_logs: bool = False
    """Ship the containers' own logs (Airflow's components among them) to CloudWatch Logs through the
    CloudWatch Observability add-on's Fluent Bit: where no other agent (Datadog) collects them."""
    admin_role_arns: Sequence[str] = ()
    """Granted AmazonEKSClusterAdminPolicy through access entries."""
    addon_versions: Mapping[str, str] = field(default_factory=dict)
    """Pinned add-on versions; a missing add-on gets EKS's default for the cluster version."""

    def __post_init__(self) -> None:
        pools = [spec.pool.name for spec in self.node_groups]
        if len(set(pools)) != len(pools):
            raise ValueError(f"node group pools must be unique, got {pools}")
        if self.endpoint_public_access and not self.public_access_cidrs:
            raise ValueError("a public cluster endpoint needs public_access_cidrs; an open endpoint is not allowed")
        # Admins' access entries are keyed by role name (unique in an account), never by list position.
        names = admin_role_names(self.admin_role_arns)
        if len(set(names)) != len(names):
            raise ValueError(f"admin_role_arns name a role twice: {sorted({n for n in names if names.count(n) > 1})}")


def admin_role_names(role_arns: Sequence[str]) -> list[str]:
    """Each admin role's name (its ARN's last part), which keys its access entry."""
    return [role_arn.rsplit("/", 1)[-1] for role_arn in role_arns]


@dataclass(frozen=True, kw_only=True)
class EksClusterProps(EksClusterOptions):
    name: str
    subnet_ids: Sequence[str]
    """Private subnets; the control plane's network interfaces and all nodes live here."""
    encryption_key: KmsKeyHandle
    region: str
    node_pools: Sequence[NodePool] = ()
    """Pools whose nodes something else launches (Karpenter): the handle lists them beside the node groups."""
    partition: str = "aws"

    @classmethod
    def of(
        cls,
        options: EksClusterOptions,
        *,
        name: str,
        subnet_ids: Sequence[str],
        encryption_key: KmsKeyHandle,
        region: str,
        node_pools: Sequence[NodePool] = (),
        partition: str = "aws",
    ) -> EksClusterProps:
        """The environment's options, placed in its network."""
        chosen = {f.name: getattr(options, f.name) for f in fields(EksClusterOptions)}
        return cls(
            **chosen, name=name, subnet_ids=subnet_ids, encryption_key=encryption_key, region=region, node_pools=node_pools, partition=partition
        )


class EksCluster(Construct):
    def __init__(self, scope: Construct, id: str, props: EksClusterProps) -> None:
        super().__init__(scope, id)
        from cdktf_cdktf_provider_aws.cloudwatch_log_group import CloudwatchLogGroup
        from cdktf_cdktf_provider_aws.eks_access_entry import EksAccessEntry
        from cdktf_cdktf_provider_aws.eks_access_policy_association import (
            EksAccessPolicyAssociation,
            EksAccessPolicyAssociationAccessScope,
        )
        from cdktf_cdktf_provider_aws.eks_cluster import (
            EksCluster as AwsEksCluster,
        )
        from cdktf_cdktf_provider_aws.eks_cluster import (
            EksClusterAccessConfig,
            EksClusterEncryptionConfig,
            EksClusterEncryptionConfigProvider,
            EksClusterVpcConfig,
        )
        from cdktf_cdktf_provider_aws.iam_role import IamRole
        from cdktf_cdktf_provider_aws.iam_role_policy_attachment import IamRolePolicyAttachment


        self.role = IamRole(
            self,
            "cluster-role",
            name=f"{props.name}-cluster",
            assume_role_policy=service_trust("eks.amazonaws.com", tag_session=True),
        )
        cluster_policy = IamRolePolicyAttachment(
            self,
            "cluster-policy",
            role=self.role.name,
            policy_arn=attachable_policy(props.partition, "AmazonEKSClusterPolicy"),
        )
        # Created before the cluster so that EKS does not create it without retention or encryption.
        log_group = CloudwatchLogGroup(
            self,
            "control-plane-logs",
            name=f"/aws/eks/{props.name}/cluster",
            retention_in_days=props.log_retention_days,
            kms_key_id=props.encryption_key.arn,
        )
        self.cluster = AwsEksCluster(
            self,
            "cluster",
            name=props.name,
            version=props.kubernetes_version,
            role_arn=self.role.arn,
            vpc_config=EksClusterVpcConfig(
                subnet_ids=list(props.subnet_ids),
                endpoint_private_access=True,
                endpoint_public_access=props.endpoint_public_access,
                public_access_cidrs=list(props.public_access_cidrs) if props.endpoint_public_access else None,
            ),
            access_config=EksClusterAccessConfig(
                authentication_mode="API",
                # The identity that deploys (CI's deployer role) keeps admin rights so the same run
                # can install Airflow; people get access through the admin access entries below.
                bootstrap_cluster_creator_admin_permissions=True,
            ),
            # Only managed add-ons (below), so every add-on is versioned in this stack.
            bootstrap_self_managed_addons=False,
            encryption_config=EksClusterEncryptionConfig(
                resources=["secrets"],
                provider=EksClusterEncryptionConfigProvider(key_arn=props.encryption_key.arn),
            ),
            enabled_cluster_log_types=list(CONTROL_PLANE_LOGS),
            depends_on=[cluster_policy, log_group],
        )

        # Keyed by role name (unique in an account), never by list position: reordering the file's
        # admin_role_arns changes nothing, and removing one removes exactly its entry.
        names = admin_role_names(props.admin_role_arns)
        for name, role_arn in zip(names, props.admin_role_arns, strict=True):
            entry = EksAccessEntry(
                self,
                f"admin-{name}",
                cluster_name=self.cluster.name,
                principal_arn=role_arn,
                type="STANDARD",
            )
            EksAccessPolicyAssociation(
                self,
                f"admin-{name}-policy",
                cluster_name=self.cluster.name,
                principal_arn=role_arn,
                policy_arn=CLUSTER_ADMIN_POLICY.format(partition=props.partition),
                access_scope=EksAccessPolicyAssociationAccessScope(type="cluster"),
                depends_on=[entry],
            )

        early = [self._addon(props, name) for name in ADDONS_BEFORE_NODES]
        self.node_role = self._node_role(props)
        self.node_groups = [self._node_group(props, spec, early) for spec in props.node_groups]
        ebs_identity = self._ebs_csi_identity(props)
        late = [
            self._addon(props, name, depends_on=[*self.node_groups, *([ebs_identity] if name == "aws-ebs-csi-driver" else [])])
            for name in ADDONS_AFTER_NODES
        ]
        if props.container_logs:
            late.append(self._container_logs(props))

        self.handle = ClusterHandle(
            name=self.cluster.name,
            endpoint=self.cluster.endpoint,
            ca_certificate_base64=self.cluster.certificate_authority.get(0).data,
            credentials=ExecCredentials(
                api_version="client.authentication.k8s.io/v1beta1",
                command="aws",
                args=("eks", "get-token", "--cluster-name", props.name, "--region", props.region, "--output", "json"),
            ),
            node_pools=(*(spec.pool for spec in props.node_groups), *props.node_pools),
            ready=(*self.node_groups, *early, *late),
            connect_command=f"aws eks update-kubeconfig --region {props.region} --name {props.name}",
        )

    def _addon(self, props: EksClusterProps, name: str, depends_on: Sequence[ITerraformDependable] = ()) -> EksAddon:
        from cdktf_cdktf_provider_aws.eks_addon import EksAddon

        configuration = None
        if name == "vpc-cni":
            # The VPC CNI's node agent enforces Kubernetes NetworkPolicy; without it the
            # guardrail policies Flightdeck installs would be accepted and silently ignored.
            configuration = json.dumps({"enableNetworkPolicy": "true"})
        # The add-ons that run as Deployments belong on the system nodes, and tolerate their taint.
        on_system = {"nodeSelector": SYSTEM_POOL.node_selector(), "tolerations": SYSTEM_POOL.tolerations()}
        if name == "coredns":
            configuration = json.dumps(
                {**on_system, "replicaCount": 2, "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"memory": "170Mi"}}}
            )
        if name == "aws-ebs-csi-driver":
            configuration = json.dumps({"controller": on_system})
        return EksAddon(
            self,
            f"addon-{name}",
            cluster_name=self.cluster.name,
            addon_name=name,
            addon_version=props.addon_versions.get(name),
            configuration_values=configuration,
            resolve_conflicts_on_create="OVERWRITE",
            resolve_conflicts_on_update="PRESERVE",
            depends_on=list(depends_on) or None,
        )

    def _node_role(self, props: EksClusterProps) -> IamRole:
        from cdktf_cdktf_provider_aws.iam_role import IamRole
        from cdktf_cdktf_provider_aws.iam_role_policy_attachment import IamRolePolicyAttachment

        role = IamRole(
            self,
            "node-role",
            name=f"{props.name}-node",
            assume_role_policy=service_trust("ec2.amazonaws.com"),
        )
        self._node_policies = [
            IamRolePolicyAttachment(self, f"node-{policy_name}", role=role.name, policy_arn=attachable_policy(props.partition, policy_name))
            for policy_name in (
                "AmazonEKSWorkerNodePolicy",
                "AmazonEKS_CNI_Policy",
                "AmazonEC2ContainerRegistryReadOnly",
                # Session Manager instead of SSH: nodes have no key pair and no open port 22.
                "AmazonSSMManagedInstanceCore",
            )
        ]
        return role

    def _node_group(self, props: EksClusterProps, spec: NodeGroupSpec, after: Sequence[ITerraformDependable]) -> EksNodeGroup:
        from cdktf import TerraformResourceLifecycle, Token
        from cdktf_cdktf_provider_aws.eks_node_group import (
            EksNodeGroup,
            EksNodeGroupLaunchTemplate,
            EksNodeGroupScalingConfig,
            EksNodeGroupTaint,
            EksNodeGroupUpdateConfig,
        )
        from cdktf_cdktf_provider_aws.launch_template import (
            LaunchTemplate,
            LaunchTemplateBlockDeviceMappings,
            LaunchTemplateBlockDeviceMappingsEbs,
            LaunchTemplateMetadataOptions,
            LaunchTemplateMonitoring,
            LaunchTemplateTagSpecifications,
        )

        name = spec.pool.name
        node_tags = {**spec.tags, "Name": f"{props.name}-{name}"}
        template = LaunchTemplate(
            self,
            f"{name}-launch-template",
            name=f"{props.name}-{name}",
            update_default_version=True,
            tags=dict(spec.tags) or None,
            metadata_options=LaunchTemplateMetadataOptions(
                http_endpoint="enabled",
                http_tokens="required",
                # Hop limit 1: processes on the node reach IMDS, containers do not, so a pod can
                # only get AWS credentials through its own pod identity.
                http_put_response_hop_limit=1,
            ),
            block_device_mappings=[
                LaunchTemplateBlockDeviceMappings(
                    device_name="/dev/xvda",
                    ebs=LaunchTemplateBlockDeviceMappingsEbs(
                        volume_size=spec.disk_size_gib,
                        volume_type="gp3",
                        encrypted="true",
                        delete_on_termination="true",
                    ),
                )
            ],
            monitoring=LaunchTemplateMonitoring(enabled=True),
            # Default tags do not reach instances and volumes launched by Auto Scaling; these do.
            tag_specifications=[
                LaunchTemplateTagSpecifications(resource_type=kind, tags=node_tags)
                for kind in ("instance", "volume", "network-interface")
            ],
        )
        return EksNodeGroup(
            self,
            f"{name}-nodes",
            cluster_name=self.cluster.name,
            node_group_name=name,
            node_role_arn=self.node_role.arn,
            subnet_ids=list(props.subnet_ids),
            tags=dict(spec.tags) or None,
            instance_types=list(spec.instance_types),
            capacity_type=spec.capacity_type,
            ami_type=spec.ami_type,
            launch_template=EksNodeGroupLaunchTemplate(id=template.id, version=Token.as_string(template.latest_version)),
            scaling_config=EksNodeGroupScalingConfig(
                min_size=spec.min_size, desired_size=spec.desired_size, max_size=spec.max_size
            ),
            update_config=EksNodeGroupUpdateConfig(max_unavailable_percentage=33),
            labels=dict(spec.pool.labels),
            taint=[
                EksNodeGroupTaint(key=t.key, value=t.value, effect=t.api_effect) for t in spec.pool.taints
            ] or None,
            # Someone scaling the system group by hand keeps that size; Terraform owns the bounds.
            lifecycle=TerraformResourceLifecycle(ignore_changes=["scaling_config[0].desired_size"]),
            depends_on=[*self._node_policies, *after],
        )

    def _container_logs(self, props: EksClusterProps) -> EksAddon:
        """The CloudWatch Observability add-on, its log groups (kept per tier, encrypted) and an identity that
        may write to exactly those groups."""
        from cdktf_cdktf_provider_aws.cloudwatch_log_group import CloudwatchLogGroup
        from cdktf_cdktf_provider_aws.eks_addon import EksAddon, EksAddonPodIdentityAssociation
        from cdktf_cdktf_provider_aws.iam_role_policy import IamRolePolicy

        # Fluent Bit writes to these; made here first, so they are encrypted and expire (it would make them bare).
        groups = [
            CloudwatchLogGroup(
                self,
                f"container-logs-{kind}",
                name=f"/aws/containerinsights/{props.name}/{kind}",
                retention_in_days=props.log_retention_days,
                kms_key_id=props.encryption_key.arn,
            )
            for kind in CONTAINER_LOG_GROUPS
        ]
        role = self._pod_role("container-logs", f"{props.name}-container-logs")
        IamRolePolicy(
            self,
            "container-logs-policy",
            name="write-container-logs",
            role=role.name,
            # Logs only: no CloudWatch metrics (Container Insights), so the add-on's metric agent is refused and costs nothing.
            policy=policy(
                allow(["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"], [f"{g.arn}:*" for g in groups]),
                allow(["logs:DescribeLogGroups"], ["*"]),
            ),
        )
        return EksAddon(
            self,
            "addon-amazon-cloudwatch-observability",
            cluster_name=self.cluster.name,
            addon_name="amazon-cloudwatch-observability",
            addon_version=props.addon_versions.get("amazon-cloudwatch-observability"),
            # Its DaemonSets run on every node, the tainted pools' included.
            configuration_values=json.dumps({"containerLogs": {"enabled": True}, "tolerations": [{"operator": "Exists"}]}),
            pod_identity_association=[EksAddonPodIdentityAssociation(role_arn=role.arn, service_account="cloudwatch-agent")],
            resolve_conflicts_on_create="OVERWRITE",
            resolve_conflicts_on_update="PRESERVE",
            depends_on=[*self.node_groups, *groups],
        )

    def _pod_role(self, id_prefix: str, name: str) -> IamRole:
        """A role for an add-on's pods, assumed through EKS Pod Identity (construct id ``<id_prefix>-role``)."""
        from cdktf_cdktf_provider_aws.iam_role import IamRole

        return IamRole(self, f"{id_prefix}-role", name=name, assume_role_policy=service_trust("pods.eks.amazonaws.com", tag_session=True))

    def _ebs_csi_identity(self, props: EksClusterProps) -> EksPodIdentityAssociation:
        from cdktf_cdktf_provider_aws.eks_pod_identity_association import EksPodIdentityAssociation
        from cdktf_cdktf_provider_aws.iam_role_policy_attachment import IamRolePolicyAttachment

        role = self._pod_role("ebs-csi", f"{props.name}-ebs-csi")
        IamRolePolicyAttachment(
            self,
            "ebs-csi-policy",
            role=role.name,
            policy_arn=attachable_policy(props.partition, "service-role/AmazonEBSCSIDriverPolicy"),
        )
        return EksPodIdentityAssociation(
            self,
            "ebs-csi-identity",
            cluster_name=self.cluster.name,
            namespace="kube-system",
            service_account="ebs-csi-controller-sa",
            role_arn=role.arn,
        )

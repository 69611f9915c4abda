"""Karpenter on EKS: task capacity that grows when pods are pending and shrinks when nodes are idle.

The platform stack holds its AWS side: the controller's role (EKS Pod Identity, the permissions of
Karpenter's own reference policy, scoped to this cluster, its region and its tags), the interruption
queue with the EventBridge rules that feed it (spot interruption, rebalance, instance state change,
scheduled health events), the node role with its EC2 access entry, and the discovery tag on the
cluster security group (the subnets get theirs from the network). The cluster stack installs what
``charts`` returns: the CRDs, the controller on the system nodes, and ``charts/node-capacity`` (the
EC2NodeClass and one NodePool per pool), in that order.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from constructs import Construct

from ..handles import HelmChart, ScrapeTarget
from ..placement import SYSTEM_POOL, NodePool
from ..workloads import LogAccess, Workload
from .iam import allow, attachable_policy, policy, service_trust
from .kms import KmsKeyHandle

CHART_VERSION = "1.14.1"
CHART_REPOSITORY = "oci://public.ecr.aws/karpenter"
NODE_CAPACITY_CHART = Path(__file__).resolve().parents[2] / "charts" / "node-capacity"
KARPENTER = Workload(name="karpenter", namespace="kube-system", service_account="karpenter", log_access=LogAccess.NONE)
METRICS = ScrapeTarget(
    check="karpenter",
    container="controller",
    namespace=KARPENTER.namespace,
    pod_labels={"app.kubernetes.io/name": "karpenter", "app.kubernetes.io/instance": "karpenter"},
    port=8080,
)
"""The controller's Prometheus endpoint (the chart's ``controller.metrics.port``), for Datadog's Karpenter check."""
PROVISIONING_FAILURES = "{agg}:karpenter.cloudprovider.errors.count{filter}"
"""Failed calls to EC2 (``method:create``: a node that could not be launched: no capacity, a quota, a
launch template or IAM error), as Datadog's Karpenter check reports them."""
DISCOVERY_TAG = "karpenter.sh/discovery"
"""Karpenter finds the private subnets and the cluster security group by this tag (value: the cluster name)."""

INTERRUPTION_EVENTS = {
    "scheduled-change": ("aws.health", "AWS Health Event"),
    "spot-interruption": ("aws.ec2", "EC2 Spot Instance Interruption Warning"),
    "rebalance": ("aws.ec2", "EC2 Instance Rebalance Recommendation"),
    "instance-state-change": ("aws.ec2", "EC2 Instance State-change Notification"),
}
"""EventBridge rule → (source, detail-type) of the events Karpenter drains nodes ahead of."""

NODE_POLICIES = ("AmazonEKSWorkerNodePolicy", "AmazonEKS_CNI_Policy", "AmazonEC2ContainerRegistryReadOnly", "AmazonSSMManagedInstanceCore")


@dataclass(frozen=True, kw_only=True)
class KarpenterPool:
    """One NodePool: which nodes its pods get, and how much it may grow."""

    pool: NodePool
    instance_families: Sequence[str]
    capacity_types: Sequence[str]
    """``spot`` and/or ``on-demand``; with both, Karpenter takes spot first and falls back to on-demand."""
    cpu_limit: int
    memory_limit_gib: int
    disk_size_gib: int
    """Each node's root volume; its default is the configuration's (``NodePoolCapacity.disk_size_gib``), declared once there."""
    architecture: str = "amd64"
    tags: Mapping[str, str] = field(default_factory=dict)
    """The nodes' tags over the environment's (a team's pool carries its team and cost center)."""

    def __post_init__(self) -> None:
        if not self.capacity_types or set(self.capacity_types) - {"spot", "on-demand"}:
            raise ValueError(f"pool {self.pool.name}: capacity types {list(self.capacity_types)} must be spot and/or on-demand")


@dataclass(frozen=True, kw_only=True)
class KarpenterProps:
    cluster_name: str
    cluster_arn: str
    cluster_security_group_id: str
    region: str
    account_id: str
    key: KmsKeyHandle
    """Encrypts the nodes' volumes."""
    pools: Sequence[KarpenterPool]
    node_image: str
    """The EC2NodeClass's AMI alias, pinned (``al2023@v20251110``): a new AMI is a reviewed change, not a surprise drift."""
    tags: Mapping[str, str]
    """The environment's tags, put on every instance, volume and network interface Karpenter launches."""
    partition: str = "aws"
    controller_replicas: int = 2
    node_role_name: str = ""
    """Default: ``<cluster>-karpenter-node``."""

    def __post_init__(self) -> None:
        names = [p.pool.name for p in self.pools]
        if len(set(names)) != len(names):
            raise ValueError(f"Karpenter pools must be unique, got {names}")


class Karpenter(Construct):
    def __init__(self, scope: Construct, id: str, props: KarpenterProps) -> None:
        super().__init__(scope, id)
        from cdktf_cdktf_provider_aws.cloudwatch_event_rule import CloudwatchEventRule
        from cdktf_cdktf_provider_aws.cloudwatch_event_target import CloudwatchEventTarget
        from cdktf_cdktf_provider_aws.ec2_tag import Ec2Tag
        from cdktf_cdktf_provider_aws.eks_access_entry import EksAccessEntry
        from cdktf_cdktf_provider_aws.iam_role import IamRole
        from cdktf_cdktf_provider_aws.iam_role_policy_attachment import IamRolePolicyAttachment
        from cdktf_cdktf_provider_aws.sqs_queue import SqsQueue
        from cdktf_cdktf_provider_aws.sqs_queue_policy import SqsQueuePolicy

        from .identity import bind_pod_identity

        name = props.cluster_name
        self.node_role = IamRole(
            self,
            "node-role",
            name=props.node_role_name or f"{name}-karpenter-node",
            description="Nodes Karpenter launches",
            assume_role_policy=service_trust("ec2.amazonaws.com"),
        )
        for policy_name in NODE_POLICIES:
            IamRolePolicyAttachment(
                self, f"node-{policy_name}", role=self.node_role.name, policy_arn=attachable_policy(props.partition, policy_name)
            )
        # The nodes join the cluster through an access entry (the cluster has no aws-auth ConfigMap).
        EksAccessEntry(self, "node-access", cluster_name=name, principal_arn=self.node_role.arn, type="EC2_LINUX")
        Ec2Tag(self, "security-group-discovery", resource_id=props.cluster_security_group_id, key=DISCOVERY_TAG, value=name)

        self.queue = SqsQueue(self, "interruptions", name=name, message_retention_seconds=300, sqs_managed_sse_enabled=True)
        SqsQueuePolicy(
            self,
            "interruptions-policy",
            queue_url=self.queue.url,
            policy=policy(
                {
                    "Sid": "EventBridgeDelivers",
                    "Effect": "Allow",
                    "Principal": {"Service": ["events.amazonaws.com", "sqs.amazonaws.com"]},
                    "Action": "sqs:SendMessage",
                    "Resource": self.queue.arn,
                },
                {
                    "Sid": "DenyHTTP",
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": "sqs:*",
                    "Resource": self.queue.arn,
                    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                },
            ),
        )
        for rule_name, (source, detail_type) in INTERRUPTION_EVENTS.items():
            rule = CloudwatchEventRule(
                self,
                f"rule-{rule_name}",
                name=f"{name}-{rule_name}",
                description=f"Karpenter of {name}: {detail_type}",
                event_pattern=json.dumps({"source": [source], "detail-type": [detail_type]}),
            )
            CloudwatchEventTarget(self, f"rule-{rule_name}-target", rule=rule.name, arn=self.queue.arn, target_id="karpenter-interruptions")

        self.identity = bind_pod_identity(
            self,
            workload=KARPENTER,
            role_name=f"{name}-karpenter",
            cluster_name=name,
            inline_policies={"karpenter": controller_policy(props, self.node_role.arn, self.queue.arn)},
        )
        self.props = props

    def charts(self) -> tuple[HelmChart, ...]:
        """What the cluster stack installs, in dependency order (each names the add-ons it needs)."""
        props = self.props
        return (
            HelmChart(
                name="karpenter-crd",
                chart="karpenter-crd",
                repository=CHART_REPOSITORY,
                version=CHART_VERSION,
                namespace=KARPENTER.namespace,
                values={},
            ),
            HelmChart(
                name="karpenter",
                chart="karpenter",
                repository=CHART_REPOSITORY,
                version=CHART_VERSION,
                namespace=KARPENTER.namespace,
                values=controller_values(props),
                after=("karpenter-crd",),
                skip_crds=True,
                metrics=METRICS,
            ),
            HelmChart(
                name="node-capacity",
                chart=str(NODE_CAPACITY_CHART),
                repository=None,
                version=None,
                namespace=KARPENTER.namespace,
                values=node_capacity_values(props, self.node_role.name),
                after=("karpenter",),
            ),
        )


def controller_policy(props: KarpenterProps, node_role_arn: str, queue_arn: str) -> str:
    """Karpenter's reference controller policy (its v1 CloudFormation template), for this cluster only."""
    arn = f"arn:{props.partition}"
    region = props.region
    ec2 = f"{arn}:ec2:{region}"
    owned = {f"aws:ResourceTag/kubernetes.io/cluster/{props.cluster_name}": "owned"}
    requested = {
        f"aws:RequestTag/kubernetes.io/cluster/{props.cluster_name}": "owned",
        "aws:RequestTag/eks:eks-cluster-name": props.cluster_name,
    }
    launched = [f"{ec2}:*:{kind}/*" for kind in ("fleet", "instance", "volume", "network-interface", "launch-template", "spot-instances-request")]
    profile = f"{arn}:iam::{props.account_id}:instance-profile/*"
    return policy(
        allow(
            ["ec2:RunInstances", "ec2:CreateFleet"],
            [
                f"{ec2}::image/*",
                f"{ec2}::snapshot/*",
                *(f"{ec2}:*:{kind}/*" for kind in ("security-group", "subnet", "capacity-reservation", "placement-group")),
            ],
            Sid="AllowScopedEC2InstanceAccessActions",
        ),
        allow(
            ["ec2:RunInstances", "ec2:CreateFleet"],
            [f"{ec2}:*:launch-template/*"],
            Sid="AllowScopedEC2LaunchTemplateAccessActions",
            Condition={"StringEquals": owned, "StringLike": {"aws:ResourceTag/karpenter.sh/nodepool": "*"}},
        ),
        allow(
            ["ec2:RunInstances", "ec2:CreateFleet", "ec2:CreateLaunchTemplate"],
            launched,
            Sid="AllowScopedEC2InstanceActionsWithTags",
            Condition={"StringEquals": requested, "StringLike": {"aws:RequestTag/karpenter.sh/nodepool": "*"}},
        ),
        allow(
            ["ec2:CreateTags"],
            launched,
            Sid="AllowScopedResourceCreationTagging",
            Condition={
                "StringEquals": {**requested, "ec2:CreateAction": ["RunInstances", "CreateFleet", "CreateLaunchTemplate"]},
                "StringLike": {"aws:RequestTag/karpenter.sh/nodepool": "*"},
            },
        ),
        allow(
            ["ec2:CreateTags"],
            [f"{ec2}:*:instance/*"],
            Sid="AllowScopedResourceTagging",
            Condition={
                "StringEquals": owned,
                "StringLike": {"aws:ResourceTag/karpenter.sh/nodepool": "*"},
                "StringEqualsIfExists": {"aws:RequestTag/eks:eks-cluster-name": props.cluster_name},
                "ForAllValues:StringEquals": {"aws:TagKeys": ["eks:eks-cluster-name", "karpenter.sh/nodeclaim", "Name"]},
            },
        ),
        allow(
            ["ec2:TerminateInstances", "ec2:DeleteLaunchTemplate"],
            [f"{ec2}:*:instance/*", f"{ec2}:*:launch-template/*"],
            Sid="AllowScopedDeletion",
            Condition={"StringEquals": owned, "StringLike": {"aws:ResourceTag/karpenter.sh/nodepool": "*"}},
        ),
        allow(
            ["iam:PassRole"],
            [node_role_arn],
            Sid="AllowPassingInstanceRole",
            Condition={"StringEquals": {"iam:PassedToService": "ec2.amazonaws.com"}},
        ),
        allow(
            ["iam:CreateInstanceProfile"],
            [profile],
            Sid="AllowScopedInstanceProfileCreationActions",
            Condition={
                "StringEquals": {**requested, "aws:RequestTag/topology.kubernetes.io/region": region},
                "StringLike": {"aws:RequestTag/karpenter.k8s.aws/ec2nodeclass": "*"},
            },
        ),
        allow(
            ["iam:TagInstanceProfile"],
            [profile],
            Sid="AllowScopedInstanceProfileTagActions",
            Condition={
                "StringEquals": {
                    **owned,
                    "aws:ResourceTag/topology.kubernetes.io/region": region,
                    **requested,
                    "aws:RequestTag/topology.kubernetes.io/region": region,
                },
                "StringLike": {"aws:ResourceTag/karpenter.k8s.aws/ec2nodeclass": "*", "aws:RequestTag/karpenter.k8s.aws/ec2nodeclass": "*"},
            },
        ),
        allow(
            ["iam:AddRoleToInstanceProfile", "iam:RemoveRoleFromInstanceProfile", "iam:DeleteInstanceProfile"],
            [profile],
            Sid="AllowScopedInstanceProfileActions",
            Condition={
                "StringEquals": {**owned, "aws:ResourceTag/topology.kubernetes.io/region": region},
                "StringLike": {"aws:ResourceTag/karpenter.k8s.aws/ec2nodeclass": "*"},
            },
        ),
        allow(["iam:GetInstanceProfile"], [profile], Sid="AllowInstanceProfileReadActions"),
        allow(["iam:ListInstanceProfiles"], ["*"], Sid="AllowUnscopedInstanceProfileListAction"),
        allow(["eks:DescribeCluster"], [props.cluster_arn], Sid="AllowAPIServerEndpointDiscovery"),
        allow(["sqs:DeleteMessage", "sqs:GetQueueUrl", "sqs:ReceiveMessage"], [queue_arn], Sid="AllowInterruptionQueueActions"),
        allow(
            [
                "ec2:DescribeCapacityReservations",
                "ec2:DescribeImages",
                "ec2:DescribeInstances",
                "ec2:DescribeInstanceStatus",
                "ec2:DescribeInstanceTypeOfferings",
                "ec2:DescribeInstanceTypes",
                "ec2:DescribeLaunchTemplates",
                "ec2:DescribePlacementGroups",
                "ec2:DescribeSecurityGroups",
                "ec2:DescribeSpotPriceHistory",
                "ec2:DescribeSubnets",
            ],
            ["*"],
            Sid="AllowRegionalReadActions",
            Condition={"StringEquals": {"aws:RequestedRegion": region}},
        ),
        allow(["ssm:GetParameter"], [f"{arn}:ssm:{region}::parameter/aws/service/*"], Sid="AllowSSMReadActions"),
        allow(["pricing:GetProducts"], ["*"], Sid="AllowPricingReadActions"),
        # The nodes' volumes are encrypted with the environment's key: EC2 uses it on the launcher's behalf.
        allow(
            ["kms:CreateGrant", "kms:Decrypt", "kms:DescribeKey", "kms:GenerateDataKeyWithoutPlaintext", "kms:ReEncrypt*"],
            [props.key.arn],
            Sid="AllowNodeVolumeEncryption",
            Condition={"StringEquals": {"kms:ViaService": f"ec2.{region}.amazonaws.com"}},
        ),
    )


def controller_values(props: KarpenterProps) -> dict[str, Any]:
    """The karpenter chart's values: on the system nodes, found by EKS Pod Identity, draining ahead of interruptions."""
    return {
        "settings": {"clusterName": props.cluster_name, "interruptionQueue": props.cluster_name},
        "serviceAccount": {"create": True, "name": KARPENTER.service_account},
        "replicas": props.controller_replicas,
        "controller": {
            "resources": {"requests": {"cpu": "500m", "memory": "1Gi"}, "limits": {"memory": "1Gi"}},
        },
        "nodeSelector": {"kubernetes.io/os": "linux", **SYSTEM_POOL.node_selector()},
        "tolerations": [{"key": "CriticalAddonsOnly", "operator": "Exists"}, *SYSTEM_POOL.tolerations()],
    }


def node_capacity_values(props: KarpenterProps, node_role_name: str) -> dict[str, Any]:
    """``charts/node-capacity``: per pool a NodePool and its EC2NodeClass (its disk and its nodes' tags)."""
    return {
        "nodeClass": {
            "role": node_role_name,
            "amiAlias": props.node_image,
            "discovery": {DISCOVERY_TAG: props.cluster_name},
            "kmsKeyId": props.key.arn,
            "tags": dict(props.tags),
        },
        "nodePools": [
            {
                "name": spec.pool.name,
                "labels": dict(spec.pool.labels),
                "taints": [{"key": t.key, "value": t.value, "effect": t.effect} for t in spec.pool.taints],
                "instanceFamilies": list(spec.instance_families),
                "capacityTypes": list(spec.capacity_types),
                "architecture": spec.architecture,
                "limits": {"cpu": str(spec.cpu_limit), "memory": f"{spec.memory_limit_gib}Gi"},
                "diskSizeGiB": spec.disk_size_gib,
                "tags": dict(spec.tags),
            }
            for spec in props.pools
        ],
    }

"""AWS identities for the services that run on the cluster for the platform.

* The AWS Load Balancer Controller turns the Airflow UI's Ingress into an ALB. Its IAM policy lets
  it create load balancers and security groups, and change only those it tagged as its own.
* The External Secrets Operator copies the database password (and the DAG repository's
  credentials) from Secrets Manager into Kubernetes secrets. It may read exactly those secrets.
* ExternalDNS, where the file names a private hosted zone, writes each UI's record there. It may
  change that zone's records and nothing else.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from constructs import Construct

from ..handles import HelmChart, IngressHandle, KeptSecrets, SecretStoreHandle, WorkloadIdentity
from ..kubernetes.addons import EXTERNAL_DNS, DnsZoneSpec, external_dns
from ..placement import SYSTEM_POOL
from ..workloads import EXTERNAL_SECRETS, LogAccess, Workload
from .iam import READ_SECRET, allow, policy, read_secrets
from .identity import bind_pod_identity
from .kms import KmsKeyHandle

LOAD_BALANCER_CONTROLLER = Workload(
    name="aws-load-balancer-controller",
    namespace="kube-system",
    service_account="aws-load-balancer-controller",
    log_access=LogAccess.NONE,
)
LOAD_BALANCER_CONTROLLER_CHART_VERSION = "3.4.2"


_CLUSTER_TAG = "elbv2.k8s.aws/cluster"


def load_balancer_controller_policy() -> str:
    """What the controller needs: read the network, manage ELBs and the security groups it created."""
    owned = {"Null": {f"aws:ResourceTag/{_CLUSTER_TAG}": "false"}}
    requested = {"Null": {f"aws:RequestTag/{_CLUSTER_TAG}": "false"}}
    return policy(
        allow(
            ["iam:CreateServiceLinkedRole"],
            ["*"],
            Condition={"StringEquals": {"iam:AWSServiceName": "elasticloadbalancing.amazonaws.com"}},
        ),
        allow(
            [
                "ec2:DescribeAccountAttributes", "ec2:DescribeAddresses", "ec2:DescribeAvailabilityZones",
                "ec2:DescribeInternetGateways", "ec2:DescribeVpcs", "ec2:DescribeVpcPeeringConnections",
                "ec2:DescribeSubnets", "ec2:DescribeSecurityGroups", "ec2:DescribeInstances",
                "ec2:DescribeNetworkInterfaces", "ec2:DescribeTags", "ec2:DescribeRouteTables",
                "ec2:GetSecurityGroupsForVpc", "ec2:DescribeIpamPools", "ec2:GetCoipPoolUsage", "ec2:DescribeCoipPools",
                "elasticloadbalancing:DescribeLoadBalancers", "elasticloadbalancing:DescribeLoadBalancerAttributes",
                "elasticloadbalancing:DescribeListeners", "elasticloadbalancing:DescribeListenerCertificates",
                "elasticloadbalancing:DescribeListenerAttributes", "elasticloadbalancing:DescribeSSLPolicies",
                "elasticloadbalancing:DescribeRules", "elasticloadbalancing:DescribeTargetGroups",
                "elasticloadbalancing:DescribeTargetGroupAttributes", "elasticloadbalancing:DescribeTargetHealth",
                "elasticloadbalancing:DescribeTags", "elasticloadbalancing:DescribeTrustStores",
                "elasticloadbalancing:DescribeCapacityReservation",
                "acm:ListCertificates", "acm:DescribeCertificate",
                "iam:ListServerCertificates", "iam:GetServerCertificate",
                "wafv2:GetWebACL", "wafv2:GetWebACLForResource", "wafv2:AssociateWebACL", "wafv2:DisassociateWebACL",
                "shield:GetSubscriptionState", "shield:DescribeProtection", "shield:CreateProtection", "shield:DeleteProtection",
                "cognito-idp:DescribeUserPoolClient",
            ],
            ["*"],
        ),
        allow(["ec2:CreateSecurityGroup"], ["*"]),
        allow(
            ["ec2:CreateTags"],
            ["arn:*:ec2:*:*:security-group/*"],
            Condition={"StringEquals": {"ec2:CreateAction": "CreateSecurityGroup"}, **requested},
        ),
        allow(
            ["ec2:AuthorizeSecurityGroupIngress", "ec2:RevokeSecurityGroupIngress", "ec2:DeleteSecurityGroup",
             "ec2:CreateTags", "ec2:DeleteTags"],
            ["arn:*:ec2:*:*:security-group/*"],
            Condition=owned,
        ),
        allow(
            ["elasticloadbalancing:CreateLoadBalancer", "elasticloadbalancing:CreateTargetGroup"],
            ["*"],
            Condition=requested,
        ),
        allow(
            ["elasticloadbalancing:CreateListener", "elasticloadbalancing:DeleteListener",
             "elasticloadbalancing:CreateRule", "elasticloadbalancing:DeleteRule",
             "elasticloadbalancing:ModifyListener", "elasticloadbalancing:ModifyRule",
             "elasticloadbalancing:AddListenerCertificates", "elasticloadbalancing:RemoveListenerCertificates",
             "elasticloadbalancing:SetRulePriorities", "elasticloadbalancing:SetWebAcl",
             "elasticloadbalancing:ModifyListenerAttributes"],
            ["*"],
        ),
        allow(
            ["elasticloadbalancing:AddTags", "elasticloadbalancing:RemoveTags",
             "elasticloadbalancing:ModifyLoadBalancerAttributes", "elasticloadbalancing:SetIpAddressType",
             "elasticloadbalancing:SetSecurityGroups", "elasticloadbalancing:SetSubnets",
             "elasticloadbalancing:DeleteLoadBalancer", "elasticloadbalancing:ModifyTargetGroup",
             "elasticloadbalancing:ModifyTargetGroupAttributes", "elasticloadbalancing:DeleteTargetGroup"],
            [
                "arn:*:elasticloadbalancing:*:*:targetgroup/*/*",
                "arn:*:elasticloadbalancing:*:*:loadbalancer/net/*/*",
                "arn:*:elasticloadbalancing:*:*:loadbalancer/app/*/*",
            ],
            Condition=owned,
        ),
        allow(
            ["elasticloadbalancing:AddTags"],
            [
                "arn:*:elasticloadbalancing:*:*:targetgroup/*/*",
                "arn:*:elasticloadbalancing:*:*:loadbalancer/net/*/*",
                "arn:*:elasticloadbalancing:*:*:loadbalancer/app/*/*",
            ],
            Condition={
                "StringEquals": {"elasticloadbalancing:CreateAction": ["CreateTargetGroup", "CreateLoadBalancer"]},
                **requested,
            },
        ),
        allow(
            ["elasticloadbalancing:RegisterTargets", "elasticloadbalancing:DeregisterTargets"],
            ["arn:*:elasticloadbalancing:*:*:targetgroup/*/*"],
        ),
    )


@dataclass(frozen=True, kw_only=True)
class ClusterServicesProps:
    name_prefix: str
    cluster_name: str
    region: str
    vpc_id: str
    key: KmsKeyHandle
    readable_secret_arns: Sequence[str]
    """Secrets the External Secrets Operator may read (ARNs or ARN patterns)."""
    kept_secret_arns: Sequence[str]
    """The ARN patterns of the secrets the operator creates once and keeps (``…:secret:flightdeck-prod/airflow/*``,
    one per Airflow)."""
    kept_prefix: str
    """Their names' prefix (``flightdeck-prod/airflow/``)."""
    controller_replicas: int = 2
    """Replicas of the load balancer controller (leader-elected)."""
    dns_zone: HostedZone | None = None
    """The private hosted zone ExternalDNS writes the UIs' records to; None: no ExternalDNS."""
    partition: str = "aws"


@dataclass(frozen=True, kw_only=True)
class HostedZone:
    id: str
    domain: str
    owner: str
    """The TXT registry's owner id (``flightdeck-prod``)."""


def external_dns_policy(partition: str, zone_id: str) -> str:
    """Change the records of one hosted zone; list zones (to find it) and its records."""
    zone = f"arn:{partition}:route53:::hostedzone/{zone_id}"
    return policy(
        allow(["route53:ChangeResourceRecordSets", "route53:ListResourceRecordSets"], [zone]),
        allow(["route53:ListHostedZones", "route53:ListTagsForResources"], ["*"]),
    )


class ClusterServices(Construct):
    def __init__(self, scope: Construct, id: str, props: ClusterServicesProps) -> None:
        super().__init__(scope, id)
        def identity(workload: Workload, policy_name: str, document: str) -> WorkloadIdentity:
            return bind_pod_identity(
                self,
                workload=workload,
                role_name=f"{props.name_prefix}-{workload.name}",
                cluster_name=props.cluster_name,
                inline_policies={policy_name: document},
            )

        identity(LOAD_BALANCER_CONTROLLER, "manage-load-balancers", load_balancer_controller_policy())
        eso = identity(
            EXTERNAL_SECRETS,
            "read-airflow-secrets",
            policy(
                read_secrets(props.readable_secret_arns),
                # Airflow's generated keys: created once, read back, never deleted (no DeleteSecret).
                allow(
                    ["secretsmanager:CreateSecret", "secretsmanager:PutSecretValue", "secretsmanager:TagResource", *READ_SECRET],
                    list(props.kept_secret_arns),
                ),
                # The database secret and the kept keys are encrypted with the environment key.
                allow(["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"], [props.key.arn]),
            ),
        )
        self.secret_store = SecretStoreHandle(
            provider={"aws": {"service": "SecretsManager", "region": props.region}},
            identity=eso,
            keeps=KeptSecrets(
                prefix=props.kept_prefix,
                push_metadata={
                    "apiVersion": "kubernetes.external-secrets.io/v1alpha1",
                    "kind": "PushSecretMetadata",
                    "spec": {"kmsKeyID": props.key.arn, "description": "Generated once by Flightdeck's secret sync; kept when the cluster goes"},
                },
            ),
        )
        self.external_dns: HelmChart | None = None
        if props.dns_zone is not None:
            zone = props.dns_zone
            dns = identity(EXTERNAL_DNS, "change-ui-records", external_dns_policy(props.partition, zone.id))
            self.external_dns = external_dns(
                DnsZoneSpec(
                    domain=zone.domain,
                    owner=zone.owner,
                    provider={"name": "aws"},
                    args=[f"--zone-id-filter={zone.id}", "--aws-zone-type=private"],
                    identity=dns,
                    env={"AWS_DEFAULT_REGION": props.region},
                )
            )
        self.load_balancer_controller = HelmChart(
            name="aws-load-balancer-controller",
            chart="aws-load-balancer-controller",
            repository="https://aws.github.io/eks-charts",
            version=LOAD_BALANCER_CONTROLLER_CHART_VERSION,
            namespace=LOAD_BALANCER_CONTROLLER.namespace,
            values={
                "clusterName": props.cluster_name,
                "region": props.region,
                "vpcId": props.vpc_id,
                "replicaCount": props.controller_replicas,
                "serviceAccount": {"create": True, "name": LOAD_BALANCER_CONTROLLER.service_account},
                "resources": {"requests": {"cpu": "100m", "memory": "256Mi"}, "limits": {"memory": "256Mi"}},
                "nodeSelector": SYSTEM_POOL.node_selector(),
                "tolerations": SYSTEM_POOL.tolerations(),
            },
        )
        shared = {
            "alb.ingress.kubernetes.io/target-type": "ip",
            "alb.ingress.kubernetes.io/listen-ports": '[{"HTTPS": 443}]',
            "alb.ingress.kubernetes.io/ssl-policy": "ELBSecurityPolicy-TLS13-1-2-2021-06",
            "alb.ingress.kubernetes.io/healthcheck-path": "/api/v2/monitor/health",
        }
        self.ingress = IngressHandle(
            class_name="alb",
            internal_annotations={**shared, "alb.ingress.kubernetes.io/scheme": "internal"},
            public_annotations={**shared, "alb.ingress.kubernetes.io/scheme": "internet-facing"},
            tls_annotation="alb.ingress.kubernetes.io/certificate-arn",
            source_ranges_annotation="alb.ingress.kubernetes.io/inbound-cidrs",
        )

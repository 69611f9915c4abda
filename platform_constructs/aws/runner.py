"""Reaching a private EKS API endpoint: the CI runner inside the VPC, and an optional bastion.

``DeployRunner`` is an AWS CodeBuild project in the environment's private subnets, registered as a
GitHub Actions self-hosted runner (CodeBuild's managed runner: a job that asks for the label
``codebuild-<project>-<run id>-<attempt>`` starts a build that runs that job). Its own service role
can only write its logs, attach to the VPC and use the account's GitHub connection; the job still
obtains the deployer role through GitHub's OIDC exchange, bound to the GitHub environment, so a
job that merely asks for the runner label gets a place in the network and no credentials. Its
security group may open HTTPS only: to the cluster's API, AWS and GitHub (through the NAT), never
the database.

``Bastion`` is a small instance with no inbound port and no key pair, reached only through Session
Manager, for a person who deploys the cluster stack from a workstation by port forwarding.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from constructs import Construct

from .iam import allow, attachable_policy, policy
from .kms import KmsKeyHandle

HTTPS = 443
RUNNER_EVENT = "WORKFLOW_JOB_QUEUED"


@dataclass(frozen=True, kw_only=True)
class ClusterApiAccess:
    """Where a client of the cluster's API lives: the VPC, the subnets, and the cluster's security group to be let in by."""

    vpc_id: str
    subnet_ids: Sequence[str]
    cluster_security_group_id: str
    """EKS's cluster security group, attached to the API server's network interfaces."""


def _client_security_group(scope: Construct, name: str, description: str, access: ClusterApiAccess) -> str:
    """A security group that may open HTTPS anywhere, and the cluster's rule that lets it reach the API server."""
    from cdktf_cdktf_provider_aws.security_group import SecurityGroup
    from cdktf_cdktf_provider_aws.vpc_security_group_egress_rule import VpcSecurityGroupEgressRule
    from cdktf_cdktf_provider_aws.vpc_security_group_ingress_rule import VpcSecurityGroupIngressRule

    group = SecurityGroup(scope, "security-group", name=name, description=description, vpc_id=access.vpc_id)
    # HTTPS only: the API server, AWS APIs and GitHub through the NAT. DNS goes to the VPC resolver,
    # which security groups do not filter; the database port stays closed.
    VpcSecurityGroupEgressRule(
        scope,
        "https-out",
        security_group_id=group.id,
        description="HTTPS to the cluster API, AWS APIs and GitHub",
        ip_protocol="tcp",
        from_port=HTTPS,
        to_port=HTTPS,
        cidr_ipv4="0.0.0.0/0",
    )
    VpcSecurityGroupIngressRule(
        scope,
        "cluster-api-in",
        security_group_id=access.cluster_security_group_id,
        description=f"{name} to the Kubernetes API",
        ip_protocol="tcp",
        from_port=HTTPS,
        to_port=HTTPS,
        referenced_security_group_id=group.id,
    )
    return group.id


@dataclass(frozen=True, kw_only=True)
class DeployRunnerOptions:
    """What the environment decides about its runner (the platform supplies the rest, see ``DeployRunnerProps``)."""

    name: str
    """The CodeBuild project's name; the workflow's job label is ``codebuild-<name>-…``."""
    repository: str
    """``owner/name`` of the GitHub repository whose workflow may use the runner."""
    workflow_name: str
    """Only jobs of the workflow with this ``name:`` start a build (the webhook's filter)."""
    compute_type: str = "BUILD_GENERAL1_MEDIUM"
    """4 vCPUs, 7 GB."""
    image: str = "aws/codebuild/standard:7.0"
    """Ubuntu, like GitHub's hosted runners."""
    timeout_minutes: int = 120
    """A build (one deploy job) running longer is stopped."""
    log_retention_days: int = 90
    """How long the jobs' logs are kept in CloudWatch."""

    def __post_init__(self) -> None:
        if self.timeout_minutes < 10:
            raise ValueError(f"runner {self.name}: a timeout of {self.timeout_minutes} minutes is too short for a deploy")


@dataclass(frozen=True, kw_only=True)
class DeployRunnerProps(DeployRunnerOptions):
    access: ClusterApiAccess
    key: KmsKeyHandle
    """Encrypts the runner's logs."""
    region: str
    account_id: str
    partition: str = "aws"
    tags: Mapping[str, str] = field(default_factory=dict)


class DeployRunner(Construct):
    def __init__(self, scope: Construct, id: str, props: DeployRunnerProps) -> None:
        super().__init__(scope, id)
        from cdktf_cdktf_provider_aws.cloudwatch_log_group import CloudwatchLogGroup
        from cdktf_cdktf_provider_aws.codebuild_project import (
            CodebuildProject,
            CodebuildProjectArtifacts,
            CodebuildProjectEnvironment,
            CodebuildProjectLogsConfig,
            CodebuildProjectLogsConfigCloudwatchLogs,
            CodebuildProjectSource,
            CodebuildProjectVpcConfig,
        )
        from cdktf_cdktf_provider_aws.codebuild_webhook import (
            CodebuildWebhook,
            CodebuildWebhookFilterGroup,
            CodebuildWebhookFilterGroupFilter,
        )
        from cdktf_cdktf_provider_aws.iam_role import IamRole
        from cdktf_cdktf_provider_aws.iam_role_policy import IamRolePolicy

        arn = f"arn:{props.partition}"
        log_group = CloudwatchLogGroup(
            self,
            "logs",
            name=f"/aws/codebuild/{props.name}",
            retention_in_days=props.log_retention_days,
            kms_key_id=props.key.arn,
        )
        security_group = _client_security_group(self, props.name, "Deploy runner: HTTPS out only", props.access)
        role = IamRole(
            self,
            "role",
            name=props.name,
            description="CodeBuild deploy runner: its logs and VPC attachment only; jobs bring their own OIDC credentials",
            assume_role_policy=policy(
                {
                    "Effect": "Allow",
                    "Principal": {"Service": "codebuild.amazonaws.com"},
                    "Action": "sts:AssumeRole",
                    # Only this account's project may use the role (no confused deputy).
                    "Condition": {"StringEquals": {"aws:SourceAccount": props.account_id}},
                }
            ),
        )
        network_interface = f"{arn}:ec2:{props.region}:{props.account_id}:network-interface/*"
        IamRolePolicy(
            self,
            "policy",
            name="runner",
            role=role.id,
            policy=policy(
                allow(["logs:CreateLogStream", "logs:PutLogEvents"], [log_group.arn, f"{log_group.arn}:*"]),
                # What CodeBuild does to run a build inside the VPC (its documented VPC permissions).
                allow(
                    [
                        "ec2:CreateNetworkInterface",
                        "ec2:DescribeDhcpOptions",
                        "ec2:DescribeNetworkInterfaces",
                        "ec2:DeleteNetworkInterface",
                        "ec2:DescribeSubnets",
                        "ec2:DescribeSecurityGroups",
                        "ec2:DescribeVpcs",
                    ],
                    ["*"],
                ),
                allow(
                    ["ec2:CreateNetworkInterfacePermission"],
                    [network_interface],
                    Condition={
                        "StringEquals": {"ec2:AuthorizedService": "codebuild.amazonaws.com"},
                        "ArnEquals": {
                            "ec2:Subnet": [
                                f"{arn}:ec2:{props.region}:{props.account_id}:subnet/{subnet}" for subnet in props.access.subnet_ids
                            ]
                        },
                    },
                ),
                # The account's GitHub connection (made by the bootstrap stack) registers the runner with GitHub.
                allow(
                    ["codeconnections:GetConnectionToken", "codeconnections:GetConnection"],
                    [f"{arn}:codeconnections:{props.region}:{props.account_id}:connection/*"],
                ),
                # The project's encryption key, only as CodeBuild uses it.
                allow(
                    ["kms:Decrypt", "kms:GenerateDataKey"],
                    [props.key.arn],
                    Condition={"StringEquals": {"kms:ViaService": f"codebuild.{props.region}.amazonaws.com"}},
                ),
            ),
        )
        self.project = CodebuildProject(
            self,
            "project",
            name=props.name,
            description=f"GitHub Actions runner for {props.repository} inside the VPC (cluster stack deploys)",
            service_role=role.arn,
            build_timeout=props.timeout_minutes,
            queued_timeout=60,
            # Deploys of one environment never overlap (the workflow's concurrency group says so too).
            concurrent_build_limit=1,
            encryption_key=props.key.arn,
            source=CodebuildProjectSource(type="GITHUB", location=f"https://github.com/{props.repository}.git"),
            artifacts=CodebuildProjectArtifacts(type="NO_ARTIFACTS"),
            environment=CodebuildProjectEnvironment(
                type="LINUX_CONTAINER",
                compute_type=props.compute_type,
                image=props.image,
                image_pull_credentials_type="CODEBUILD",
                privileged_mode=False,
            ),
            vpc_config=CodebuildProjectVpcConfig(
                vpc_id=props.access.vpc_id, subnets=list(props.access.subnet_ids), security_group_ids=[security_group]
            ),
            logs_config=CodebuildProjectLogsConfig(
                cloudwatch_logs=CodebuildProjectLogsConfigCloudwatchLogs(status="ENABLED", group_name=log_group.name)
            ),
            tags=dict(props.tags) or None,
        )
        # Only queued jobs of this repository's deploy workflow start a build.
        CodebuildWebhook(
            self,
            "webhook",
            project_name=self.project.name,
            build_type="BUILD",
            filter_group=[
                CodebuildWebhookFilterGroup(
                    filter=[
                        CodebuildWebhookFilterGroupFilter(type="EVENT", pattern=RUNNER_EVENT),
                        CodebuildWebhookFilterGroupFilter(type="WORKFLOW_NAME", pattern=f"^{props.workflow_name}$"),
                    ]
                )
            ],
        )
        self.role = role
        self.security_group_id = security_group
        self.name = props.name


@dataclass(frozen=True, kw_only=True)
class BastionProps:
    name: str
    access: ClusterApiAccess
    region: str
    cluster_endpoint: str
    """The API server's URL; the bastion's output tells how to forward a local port to it."""
    partition: str = "aws"
    instance_type: str = "t4g.nano"
    ami_parameter: str = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64"
    """Amazon Linux 2023 (with the Session Manager agent), read from AWS's public parameter at plan time."""
    tags: Mapping[str, str] = field(default_factory=dict)


class Bastion(Construct):
    def __init__(self, scope: Construct, id: str, props: BastionProps) -> None:
        super().__init__(scope, id)
        from cdktf import Fn
        from cdktf_cdktf_provider_aws.data_aws_ssm_parameter import DataAwsSsmParameter
        from cdktf_cdktf_provider_aws.iam_instance_profile import IamInstanceProfile
        from cdktf_cdktf_provider_aws.iam_role import IamRole
        from cdktf_cdktf_provider_aws.iam_role_policy_attachment import IamRolePolicyAttachment
        from cdktf_cdktf_provider_aws.instance import Instance, InstanceMetadataOptions, InstanceRootBlockDevice

        from .iam import service_trust

        security_group = _client_security_group(self, props.name, "Bastion: Session Manager, HTTPS out only", props.access)
        role = IamRole(self, "role", name=props.name, assume_role_policy=service_trust("ec2.amazonaws.com"))
        IamRolePolicyAttachment(
            self, "ssm", role=role.name, policy_arn=attachable_policy(props.partition, "AmazonSSMManagedInstanceCore")
        )
        profile = IamInstanceProfile(self, "profile", name=props.name, role=role.name)
        ami = DataAwsSsmParameter(self, "ami", name=props.ami_parameter)
        self.instance = Instance(
            self,
            "instance",
            ami=ami.value,
            instance_type=props.instance_type,
            subnet_id=props.access.subnet_ids[0],
            vpc_security_group_ids=[security_group],
            iam_instance_profile=profile.name,
            associate_public_ip_address=False,
            monitoring=True,
            ebs_optimized=True,
            metadata_options=InstanceMetadataOptions(http_endpoint="enabled", http_tokens="required", http_put_response_hop_limit=1),
            root_block_device=InstanceRootBlockDevice(encrypted=True, volume_type="gp3"),
            tags={"Name": props.name, **props.tags},
        )
        host = Fn.replace(props.cluster_endpoint, "https://", "")
        self.port_forward_command = Fn.join(
            "",
            [
                f"aws ssm start-session --region {props.region} --target ",
                self.instance.id,
                " --document-name AWS-StartPortForwardingSessionToRemoteHost --parameters host=",
                host,
                ",portNumber=443,localPortNumber=443",
            ],
        )

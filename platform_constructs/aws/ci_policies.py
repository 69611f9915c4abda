"""The policy documents of an environment's CI identities: its deployer, its planner and the boundary.

Three documents, each a plain function of :class:`CiScope` so that tests read them without synthesis:

* :func:`boundary_policy`: the permissions boundary every role of the environment carries. The
  deployer may create, put and attach roles only with it, so no role it makes can do more than
  this: the services the environment uses, the node autoscaler's instance profiles, passing the
  environment's own roles to the services that run them; no other IAM, no STS, no state.
* :func:`deployer_policy`: the deployer's IAM rights (on top of ``PowerUserAccess``, which excludes
  IAM) and the explicit denials that hold whatever a managed policy grants: the boundary cannot be
  removed or swapped, the CI identities and the OIDC provider cannot be changed, no
  administrator-level policy can be attached, no object outside the environment's own buckets and
  state prefix can be read or written, the state key cannot be administered, and resource policies
  (bucket, key, repository, queue, secret) can be written only on the environment's own resources.
* :func:`planner_policy`: what a plan of Flightdeck's resources reads (descriptions and
  configuration, never object contents or secret values) and its own state.

A permissions boundary limits identity policies only; resource policies are limited by the last
group of denials. ``iam:PassRole`` has no ``iam:PermissionsBoundary`` condition: it is limited to
the environment's own roles (all of which carry the boundary) and to the services that run them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .iam import ATTACHABLE_MANAGED_POLICIES, allow, managed_policy, policy
from .kms import KmsKeyHandle

ADMINISTRATOR_POLICIES = ("AdministratorAccess", "IAMFullAccess", "PowerUserAccess", "job-function/SystemAdministrator")
"""AWS managed policies that grant IAM or everything: never attached by a deployer (also denied outright)."""

BOUNDED_SERVICES = (
    "acm", "autoscaling", "codeconnections", "codestar-connections", "cognito-idp", "ec2", "ec2messages", "ecr", "eks",
    "eks-auth", "elasticloadbalancing", "kms", "logs", "pricing", "s3", "secretsmanager", "shield", "sqs", "ssm",
    "ssmmessages", "wafv2",
)  # fmt: skip
"""The services an environment's roles use: their own policies' and the attached AWS managed policies'
(``ATTACHABLE_MANAGED_POLICIES``). No IAM beyond the statements below, no STS, no Lambda, Glue or
CloudFormation: what a role does not need, the boundary never lets it have."""

PASSED_TO_SERVICES = (
    "eks.amazonaws.com",  # the cluster role, the system node group's role
    "ec2.amazonaws.com",  # node and bastion instance profiles
    "pods.eks.amazonaws.com",  # pod identity associations
    "codebuild.amazonaws.com",  # the deploy runner
    "monitoring.rds.amazonaws.com",  # RDS enhanced monitoring
    "rds.amazonaws.com",
    "vpc-flow-logs.amazonaws.com",
)
"""The services an environment's roles are handed to."""

INSTANCE_PROFILE_ACTIONS = (
    "iam:CreateInstanceProfile", "iam:DeleteInstanceProfile", "iam:TagInstanceProfile", "iam:UntagInstanceProfile",
    "iam:AddRoleToInstanceProfile", "iam:RemoveRoleFromInstanceProfile",
)  # fmt: skip

RUN_AS_EXISTING_ROLES = (
    "lambda:UpdateFunctionCode", "lambda:UpdateFunctionConfiguration", "lambda:InvokeFunction",
    "glue:UpdateDevEndpoint", "glue:UpdateJob", "glue:StartJobRun",
    "codebuild:StartBuild", "codebuild:StartBuildBatch", "codebuild:RetryBuild", "codebuild:UpdateProject",
    "ecs:RunTask", "ecs:StartTask", "ecs:UpdateService",
    "sagemaker:CreatePresignedNotebookInstanceUrl", "cloudformation:UpdateStack", "cloudformation:ExecuteChangeSet",
)  # fmt: skip
"""Ways to run code as a role that already exists (change a function's code, start a build, change an
instance's user data) without ``iam:PassRole``: only on the environment's own resources."""

EKS_ACCESS_ACTIONS = (
    "eks:CreateAccessEntry", "eks:UpdateAccessEntry", "eks:AssociateAccessPolicy", "eks:CreatePodIdentityAssociation",
    "eks:UpdatePodIdentityAssociation", "eks:UpdateClusterConfig", "eks:CreateNodegroup", "eks:UpdateNodegroupConfig",
    "eks:CreateAddon", "eks:UpdateAddon",
)  # fmt: skip
"""Who gets into a cluster and what its pods run as: only the environment's own cluster."""

STATE_KEY_USE = ("kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:DescribeKey")

RESOURCE_POLICY_WRITES = {
    "s3": (
        "s3:PutBucketPolicy", "s3:DeleteBucketPolicy", "s3:PutBucketAcl", "s3:PutObjectAcl", "s3:PutBucketOwnershipControls",
        "s3:PutBucketPublicAccessBlock",
    ),
    "secretsmanager": ("secretsmanager:PutResourcePolicy", "secretsmanager:DeleteResourcePolicy"),
    "ecr": ("ecr:SetRepositoryPolicy", "ecr:DeleteRepositoryPolicy"),
    "sqs": ("sqs:SetQueueAttributes", "sqs:AddPermission", "sqs:RemovePermission"),
}  # fmt: skip
"""Writes of resource-based policies, by service (KMS key policies are scoped by tag instead: a key's ARN has no name)."""

PLAN_READS = (
    "sts:GetCallerIdentity",
    "ec2:Describe*", "ec2:GetLaunchTemplateData",
    "eks:Describe*", "eks:List*",
    "rds:Describe*", "rds:ListTagsForResource",
    "iam:GetRole", "iam:GetRolePolicy", "iam:ListRolePolicies", "iam:ListAttachedRolePolicies", "iam:ListRoleTags",
    "iam:GetInstanceProfile", "iam:ListInstanceProfilesForRole", "iam:GetOpenIDConnectProvider", "iam:GetPolicy",
    "iam:GetPolicyVersion",
    "s3:ListAllMyBuckets", "s3:GetBucket*", "s3:GetEncryptionConfiguration", "s3:GetLifecycleConfiguration",
    "s3:GetAccelerateConfiguration", "s3:GetReplicationConfiguration", "s3:GetIntelligentTieringConfiguration",
    "kms:DescribeKey", "kms:GetKeyPolicy", "kms:GetKeyRotationStatus", "kms:ListAliases", "kms:ListResourceTags",
    "logs:DescribeLogGroups", "logs:ListTagsForResource", "logs:ListTagsLogGroup",
    "ecr:DescribeRepositories", "ecr:GetLifecyclePolicy", "ecr:GetRepositoryPolicy", "ecr:ListTagsForResource",
    "sqs:GetQueueAttributes", "sqs:GetQueueUrl", "sqs:ListQueueTags",
    "events:DescribeRule", "events:ListTargetsByRule", "events:ListTagsForResource",
    "codebuild:BatchGetProjects", "codebuild:ListSourceCredentials",
    "codeconnections:GetConnection", "codeconnections:ListTagsForResource",
    "secretsmanager:DescribeSecret", "secretsmanager:GetResourcePolicy", "secretsmanager:ListSecrets",
    "acm:DescribeCertificate",
    "elasticloadbalancing:Describe*",
    "ssm:DescribeParameters",
)  # fmt: skip
"""What refreshing Flightdeck's AWS resources reads: configuration only. No ``s3:GetObject``
outside the state prefix, no ``secretsmanager:GetSecretValue``, no ``ssm:GetParameter`` on private parameters
but the environment's own (``planner_policy``)."""


@dataclass(frozen=True, kw_only=True)
class CiScope:
    """What one environment's CI identities may reach."""

    name: str
    account_id: str
    partition: str = "aws"
    manages_prefix: str
    """Name prefix of the environment's IAM roles, instance profiles, buckets, queues and secrets (``flightdeck-prod-``)."""
    ci_prefix: str
    """Name prefix of every CI identity and boundary (``flightdeck-ci-``): no deployer may change them."""
    boundary_name: str
    bucket_names: Sequence[str]
    """The environment's buckets by name, besides those under ``manages_prefix`` (a task log bucket named in the file)."""
    image_repository: str
    state_bucket_arn: str
    state_prefix: str
    state_key: KmsKeyHandle
    environment_tag: tuple[str, str]
    """The tag every resource of the environment carries (``env``, ``prod``): KMS keys are recognised by it."""
    dns_zones: Sequence[str] = ()
    """Route 53 hosted zones (ids) whose records the environment's ExternalDNS writes: the only zones any of its roles may change."""

    @property
    def iam(self) -> str:
        return f"arn:{self.partition}:iam::{self.account_id}"

    @property
    def boundary_arn(self) -> str:
        return f"{self.iam}:policy/{self.boundary_name}"

    @property
    def own_roles(self) -> str:
        return f"{self.iam}:role/{self.manages_prefix}*"

    @property
    def own_instance_profiles(self) -> str:
        return f"{self.iam}:instance-profile/{self.manages_prefix}*"

    @property
    def cluster_name(self) -> str:
        """The environment's EKS cluster (and Karpenter queue) is named after the prefix (``flightdeck-prod``)."""
        return self.manages_prefix.rstrip("-")

    @property
    def state_objects(self) -> str:
        return f"{self.state_bucket_arn}/{self.state_prefix}*"

    def bucket_arns(self) -> list[str]:
        s3 = f"arn:{self.partition}:s3:::"
        return [f"{s3}{self.manages_prefix}*", *(f"{s3}{name}" for name in self.bucket_names)]

    @property
    def own_parameters(self) -> str:
        """The environment's own SSM parameters (``/flightdeck-prod-airflow-schema/…``; the path itself included)."""
        return f"arn:{self.partition}:ssm:*:{self.account_id}:parameter/{self.manages_prefix}*"

    def own_resources(self, service: str) -> list[str]:
        """ARN patterns of the environment's own resources of ``service`` (those in ``RESOURCE_POLICY_WRITES``)."""
        regional = f"arn:{self.partition}:{service}:*:{self.account_id}"
        return {
            "s3": self.bucket_arns(),
            "secretsmanager": [f"{regional}:secret:{self.manages_prefix}*"],
            "ecr": [f"{regional}:repository/{self.image_repository}"],
            # Karpenter's interruption queue is named after the cluster (``flightdeck-prod``).
            "sqs": [f"{regional}:{self.cluster_name}", f"{regional}:{self.manages_prefix}*"],
        }[service]


def _not_tagged_for(scope: CiScope) -> dict[str, Any]:
    key, value = scope.environment_tag
    return {"StringNotEquals": {f"aws:ResourceTag/{key}": value}}


def _state_denials(scope: CiScope) -> list[dict[str, Any]]:
    """No access to the state bucket beyond listing and the environment's own objects, and no administration of its key."""
    bucket = scope.state_bucket_arn
    return [
        {
            "Sid": "DenyStateBucketConfiguration",
            "Effect": "Deny",
            "NotAction": ["s3:ListBucket", "s3:GetBucketLocation", "s3:GetBucketVersioning"],
            "Resource": [bucket],
        },
        {
            "Sid": "DenyStateListingOutsidePrefix",
            "Effect": "Deny",
            "Action": ["s3:ListBucket"],
            "Resource": [bucket],
            "Condition": {"StringNotLike": {"s3:prefix": [f"{scope.state_prefix}*"]}},
        },
        {
            "Sid": "DenyStateHistory",
            "Effect": "Deny",
            "Action": [
                "s3:DeleteObjectVersion", "s3:PutObjectVersionAcl", "s3:PutObjectRetention", "s3:PutObjectLegalHold",
                "s3:BypassGovernanceRetention",
            ],
            "Resource": [f"{bucket}/*"],
        },
        {
            "Sid": "DenyStateKeyAdministration",
            "Effect": "Deny",
            "NotAction": list(STATE_KEY_USE),
            "Resource": [scope.state_key.arn],
        },
    ]


def boundary_policy(scope: CiScope) -> str:
    """The most any role of the environment can do, whatever policies it is given."""
    return policy(
        allow([f"{service}:*" for service in BOUNDED_SERVICES], ["*"], Sid="EnvironmentServices"),
        allow(["sts:GetCallerIdentity"], ["*"], Sid="WhoAmI"),
        # The load balancer controller looks up IAM server certificates (public parts only) for listeners.
        allow(["iam:ListServerCertificates", "iam:GetServerCertificate"], ["*"], Sid="ServerCertificates"),
        # The node autoscaler's instance profiles (Karpenter names and tags them itself) and the roles they carry.
        allow([*INSTANCE_PROFILE_ACTIONS, "iam:GetInstanceProfile"], [f"{scope.iam}:instance-profile/*"], Sid="NodeInstanceProfiles"),
        allow(["iam:ListInstanceProfiles"], ["*"], Sid="ListInstanceProfiles"),
        allow(
            ["iam:PassRole"],
            [scope.own_roles],
            Sid="PassEnvironmentRoles",
            Condition={"StringEquals": {"iam:PassedToService": list(PASSED_TO_SERVICES)}},
        ),
        # The load balancer controller and EKS create their service-linked roles on first use (always under aws-service-role/).
        allow(["iam:CreateServiceLinkedRole"], ["*"], Sid="ServiceLinkedRoles"),
        # ExternalDNS: the records of the environment's own zone, and finding it; no other zone.
        *(
            [
                allow(
                    ["route53:ChangeResourceRecordSets", "route53:ListResourceRecordSets"],
                    [f"arn:{scope.partition}:route53:::hostedzone/{zone}" for zone in scope.dns_zones],
                    Sid="UiRecords",
                ),
                allow(["route53:ListHostedZones", "route53:ListTagsForResources"], ["*"], Sid="FindZones"),
            ]
            if scope.dns_zones
            else []
        ),
        {
            "Sid": "NoState",
            "Effect": "Deny",
            "Action": ["s3:*"],
            "Resource": [scope.state_bucket_arn, f"{scope.state_bucket_arn}/*"],
        },
        {"Sid": "NoStateKey", "Effect": "Deny", "Action": ["kms:*"], "Resource": [scope.state_key.arn]},
    )


def deployer_policy(scope: CiScope) -> str:
    """The deployer's IAM and state rights, and the denials that bound what ``PowerUserAccess`` gives it."""
    within_boundary = {"StringEquals": {"iam:PermissionsBoundary": scope.boundary_arn}}
    attachable = [managed_policy(scope.partition, name) for name in ATTACHABLE_MANAGED_POLICIES]
    ci_identities = [f"{scope.iam}:role/{scope.ci_prefix}*", f"{scope.iam}:policy/{scope.ci_prefix}*", f"{scope.iam}:oidc-provider/*"]
    objects = [f"{arn}/*" for arn in scope.bucket_arns()] + [scope.state_objects]
    statements: list[dict[str, Any]] = [
        # Roles: created, and given inline or managed policies, only with the environment's boundary.
        allow(
            ["iam:CreateRole", "iam:PutRolePolicy", "iam:DeleteRolePolicy", "iam:DetachRolePolicy", "iam:PutRolePermissionsBoundary"],
            [scope.own_roles],
            Sid="RolesWithinBoundary",
            Condition=within_boundary,
        ),
        allow(
            ["iam:AttachRolePolicy"],
            [scope.own_roles],
            Sid="AttachEnvironmentManagedPolicies",
            Condition={**within_boundary, "ArnEquals": {"iam:PolicyARN": attachable}},
        ),
        allow(
            ["iam:DeleteRole", "iam:UpdateRole", "iam:UpdateRoleDescription", "iam:UpdateAssumeRolePolicy", "iam:TagRole", "iam:UntagRole"],
            [scope.own_roles],
            Sid="EditEnvironmentRoles",
        ),
        allow(
            ["iam:PassRole"],
            [scope.own_roles],
            Sid="PassEnvironmentRoles",
            Condition={"StringEquals": {"iam:PassedToService": list(PASSED_TO_SERVICES)}},
        ),
        allow(list(INSTANCE_PROFILE_ACTIONS), [scope.own_instance_profiles], Sid="EnvironmentInstanceProfiles"),
        allow(["iam:Get*", "iam:List*"], ["*"], Sid="ReadIam"),
        # EKS, RDS, Auto Scaling and load balancers create their service-linked roles on first use.
        allow(["iam:CreateServiceLinkedRole"], [f"{scope.iam}:role/aws-service-role/*"], Sid="ServiceLinkedRoles"),
        allow(["s3:ListBucket"], [scope.state_bucket_arn], Sid="ListState", Condition={"StringLike": {"s3:prefix": [f"{scope.state_prefix}*"]}}),
        allow(["s3:GetObject", "s3:PutObject", "s3:DeleteObject"], [scope.state_objects], Sid="ReadWriteState"),
        allow(["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"], [scope.state_key.arn], Sid="UseStateKey"),
        # What holds whatever PowerUserAccess (or any policy attached later) grants:
        {
            "Sid": "DenyBoundaryRemoval",
            "Effect": "Deny",
            "Action": ["iam:DeleteRolePermissionsBoundary", "iam:DeleteUserPermissionsBoundary"],
            "Resource": ["*"],
        },
        {
            "Sid": "DenyRolesWithoutTheBoundary",
            "Effect": "Deny",
            "Action": ["iam:CreateRole", "iam:PutRolePermissionsBoundary"],
            "Resource": ["*"],
            "Condition": {"StringNotEquals": {"iam:PermissionsBoundary": scope.boundary_arn}},
        },
        {
            "Sid": "DenyChangingCiIdentities",
            "Effect": "Deny",
            "NotAction": ["iam:Get*", "iam:List*"],
            "Resource": ci_identities,
        },
        {
            "Sid": "DenyAdministratorPolicies",
            "Effect": "Deny",
            "Action": ["iam:AttachRolePolicy", "iam:AttachUserPolicy", "iam:AttachGroupPolicy"],
            "Resource": ["*"],
            "Condition": {"ArnLike": {"iam:PolicyARN": [managed_policy(scope.partition, name) for name in ADMINISTRATOR_POLICIES]}},
        },
        {
            "Sid": "DenyObjectsOutsideEnvironment",
            "Effect": "Deny",
            "Action": ["s3:GetObject*", "s3:PutObject*", "s3:DeleteObject*", "s3:RestoreObject", "s3:ReplicateObject"],
            "NotResource": objects,
        },
        {
            "Sid": "DenyRunningAsOtherRoles",
            "Effect": "Deny",
            "Action": list(RUN_AS_EXISTING_ROLES),
            "NotResource": [
                f"arn:{scope.partition}:lambda:*:{scope.account_id}:function:{scope.manages_prefix}*",
                f"arn:{scope.partition}:glue:*:{scope.account_id}:*/{scope.manages_prefix}*",
                f"arn:{scope.partition}:codebuild:*:{scope.account_id}:project/{scope.manages_prefix}*",
                f"arn:{scope.partition}:ecs:*:{scope.account_id}:*/{scope.manages_prefix}*",
                f"arn:{scope.partition}:cloudformation:*:{scope.account_id}:stack/{scope.manages_prefix}*",
            ],
        },
        {
            # An instance's user data runs as its role at the next boot: only the environment's instances.
            "Sid": "DenyForeignInstanceUserData",
            "Effect": "Deny",
            "Action": ["ec2:ModifyInstanceAttribute"],
            "Resource": ["*"],
            "Condition": _not_tagged_for(scope),
        },
        {
            # Commands and sessions on instances run as their roles; deploys never need them.
            "Sid": "DenyCommandsOnInstances",
            "Effect": "Deny",
            "Action": ["ssm:SendCommand", "ssm:StartSession", "ssm:StartAutomationExecution", "ec2-instance-connect:SendSSHPublicKey"],
            "Resource": ["*"],
        },
        {
            "Sid": "DenyOtherClusters",
            "Effect": "Deny",
            "Action": list(EKS_ACCESS_ACTIONS),
            "NotResource": [
                f"arn:{scope.partition}:eks:*:{scope.account_id}:{kind}/{scope.cluster_name}{suffix}"
                for kind, suffix in (("cluster", ""), ("access-entry", "/*"), ("podidentityassociation", "/*"), ("nodegroup", "/*"), ("addon", "/*"))
            ],
        },
        {
            "Sid": "DenySecretValues",
            "Effect": "Deny",
            "Action": ["secretsmanager:GetSecretValue", "secretsmanager:BatchGetSecretValue", "secretsmanager:PutSecretValue"],
            "Resource": ["*"],
        },
        {
            # The account's own parameters may hold secrets; AWS's public ones (AMI ids) stay readable.
            "Sid": "DenyAccountParameters",
            "Effect": "Deny",
            "Action": ["ssm:GetParameter", "ssm:GetParameters", "ssm:GetParametersByPath", "ssm:GetParameterHistory"],
            "NotResource": [f"arn:{scope.partition}:ssm:*::parameter/aws/*", scope.own_parameters],
        },
        {
            # The environment's own parameters hold the Airflow version each database was migrated to;
            # rewriting another environment's would lift its downgrade refusal.
            "Sid": "DenyForeignParameterWrites",
            "Effect": "Deny",
            "Action": ["ssm:PutParameter", "ssm:DeleteParameter", "ssm:DeleteParameters", "ssm:LabelParameterVersion"],
            "NotResource": [scope.own_parameters],
        },
        *_state_denials(scope),
        {
            "Sid": "DenyForeignKeyAdministration",
            "Effect": "Deny",
            "Action": [
                "kms:PutKeyPolicy", "kms:ScheduleKeyDeletion", "kms:DisableKey", "kms:DisableKeyRotation", "kms:RevokeGrant",
                "kms:UntagResource", "kms:UpdateAlias", "kms:DeleteAlias", "kms:UpdateKeyDescription", "kms:ReplicateKey",
            ],
            "Resource": ["*"],
            "Condition": _not_tagged_for(scope),
        },
        {
            # Grants to principals of its choosing on others' keys; AWS services still create theirs
            # (EC2 for an instance's volume under the account's default EBS key).
            "Sid": "DenyForeignKeyGrants",
            "Effect": "Deny",
            "Action": ["kms:CreateGrant"],
            "Resource": ["*"],
            "Condition": {**_not_tagged_for(scope), "Bool": {"kms:GrantIsForAWSResource": "false"}},
        },
        {
            # Tagging another environment's key as this one's would unlock the above. A key being created has no tags yet.
            "Sid": "DenyRetaggingForeignKeys",
            "Effect": "Deny",
            "Action": ["kms:TagResource"],
            "Resource": ["*"],
            "Condition": {**_not_tagged_for(scope), "Null": {f"aws:ResourceTag/{scope.environment_tag[0]}": "false"}},
        },
    ]
    for service, actions in RESOURCE_POLICY_WRITES.items():
        statements.append(
            {
                "Sid": f"DenyForeign{service.capitalize()}Policies",
                "Effect": "Deny",
                "Action": list(actions),
                "NotResource": scope.own_resources(service) + ([f"{arn}/*" for arn in scope.bucket_arns()] if service == "s3" else []),
            }
        )
    return policy(*statements)


def planner_policy(scope: CiScope) -> str:
    """What a plan reads: configuration of Flightdeck's resources and the environment's own state."""
    return policy(
        allow(list(PLAN_READS), ["*"], Sid="ReadConfiguration"),
        # Public parameters only (the EKS-optimised AMI ids), never the account's own.
        allow(["ssm:GetParameter"], [f"arn:{scope.partition}:ssm:*::parameter/aws/service/*"], Sid="PublicParameters"),
        # The Airflow version each database was migrated to (plain values, no secrets): the downgrade refusal reads them.
        allow(
            ["ssm:GetParameter", "ssm:GetParameters", "ssm:GetParametersByPath", "ssm:ListTagsForResource"],
            [scope.own_parameters],
            Sid="OwnParameters",
        ),
        allow(["s3:ListBucket"], [scope.state_bucket_arn], Sid="ListState", Condition={"StringLike": {"s3:prefix": [f"{scope.state_prefix}*"]}}),
        allow(["s3:GetObject"], [scope.state_objects], Sid="ReadState"),
        # The plan takes the state lock: a lock file next to the state, written then removed.
        allow(["s3:PutObject", "s3:DeleteObject"], [f"{scope.state_objects}.tflock"], Sid="LockState"),
        allow(["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"], [scope.state_key.arn], Sid="UseStateKey"),
        *_state_denials(scope),
    )

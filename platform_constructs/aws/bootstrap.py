"""What an AWS account needs before its environments' first deploy.

* the Terraform state bucket (versioned, KMS-encrypted, TLS only, never public), and
* GitHub's OIDC identity provider with, per environment, a deployer role that only the workflow's
  job bound to the GitHub environment of the same name can assume, the permissions boundary every
  role it creates must carry, and a planner role that reads configuration (never data or secret
  values) for previews (``cdktf diff``) of pull requests and of the default branch (the documents
  are in ``ci_policies.py``), and
* per region the environments run in, the account's GitHub connection (AWS CodeConnections) and
  CodeBuild's source credential that uses it: the environments' deploy runners register with GitHub
  through it. A connection starts PENDING; an administrator completes GitHub's authorization once
  in the console (see the README), before the first platform deploy creates its runner's webhook.

No access keys exist anywhere: CI exchanges its short-lived OIDC token for role credentials.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from constructs import Construct

from .ci_policies import CiScope, boundary_policy, deployer_policy, planner_policy
from .iam import managed_policy, policy
from .kms import KmsKeyHandle, account_administers
from .storage import PrivateBucketProps, private_bucket

# GitHub's OIDC issuer. AWS verifies its tokens against its own trust store; IAM still requires
# thumbprints when the provider is created, so these are GitHub's published intermediate CAs.
GITHUB_OIDC_THUMBPRINTS = ("6938fd4d98bab03faadb97b34396831e3780aea1", "1c58a3a8518e8759bf075b76b750d4f2df264fcd")

@dataclass(frozen=True, kw_only=True)
class StateBucketProps:
    name: str
    account_id: str
    partition: str = "aws"
    noncurrent_expire_after_days: int = 90
    """Old state versions are kept this long: the window in which a bad apply can be rolled back by hand."""


class StateBucket(Construct):
    """The Terraform state bucket of one account, with its own KMS key."""

    def __init__(self, scope: Construct, id: str, props: StateBucketProps) -> None:
        super().__init__(scope, id)
        from cdktf import TerraformResourceLifecycle
        from cdktf_cdktf_provider_aws.kms_alias import KmsAlias
        from cdktf_cdktf_provider_aws.kms_key import KmsKey

        key = KmsKey(
            self,
            "key",
            description=f"Terraform state in {props.name}",
            enable_key_rotation=True,
            deletion_window_in_days=30,
            # Who may use the key is decided by IAM policies (the CI roles').
            policy=policy(account_administers(props.partition, props.account_id)),
        )
        KmsAlias(self, "alias", name=f"alias/{props.name}", target_key_id=key.key_id)
        self.key = KmsKeyHandle(arn=key.arn, key_id=key.key_id)
        self.bucket = private_bucket(
            self,
            PrivateBucketProps(
                name=props.name,
                key=self.key,
                lifecycle_rule="expire-old-state-versions",
                expire_after_days=None,
                noncurrent_expire_after_days=props.noncurrent_expire_after_days,
            ),
        )
        # Every environment's state is in here: Terraform refuses to plan a destroy of it.
        self.bucket.lifecycle = TerraformResourceLifecycle(prevent_destroy=True)
        self.arn = self.bucket.arn


@dataclass(frozen=True, kw_only=True)
class GithubConnectionProps:
    name: str
    """The connection's name (at most 32 characters), one per account and region."""

    def __post_init__(self) -> None:
        if len(self.name) > 32:
            raise ValueError(f"GitHub connection name '{self.name}' is longer than 32 characters")


class GithubConnection(Construct):
    """The GitHub connection of one account and region, and CodeBuild's default credential for GitHub there."""

    def __init__(self, scope: Construct, id: str, props: GithubConnectionProps) -> None:
        super().__init__(scope, id)
        from cdktf_cdktf_provider_aws.codebuild_source_credential import CodebuildSourceCredential
        from cdktf_cdktf_provider_aws.codeconnections_connection import CodeconnectionsConnection

        self.connection = CodeconnectionsConnection(self, "connection", name=props.name, provider_type="GitHub")
        # CodeBuild keeps one credential per source provider and region: every runner project there uses it.
        CodebuildSourceCredential(
            self, "codebuild", auth_type="CODECONNECTIONS", server_type="GITHUB", token=self.connection.arn
        )
        self.arn = self.connection.arn


@dataclass(frozen=True, kw_only=True)
class CiEnvironment:
    """One environment's CI roles."""

    name: str
    deployer_role: str
    planner_role: str
    deploy_subject: str
    """OIDC subject allowed to deploy (``repo:<owner>/<name>:environment:<env>``)."""
    scope: CiScope
    """What the roles may reach: the environment's names, its state, its boundary."""


@dataclass(frozen=True, kw_only=True)
class GithubDeployersProps:
    account_id: str
    partition: str = "aws"
    plan_subjects: Sequence[str]
    """OIDC subjects allowed to preview (pull requests, the default branch)."""
    oidc_host: str
    """GitHub's OIDC issuer without ``https://`` (``token.actions.githubusercontent.com``)."""
    oidc_audience: str
    environments: Sequence[CiEnvironment] = field(default_factory=tuple)
    max_session_hours: int = 2
    """A deploy that creates a cluster and a Multi-AZ database takes most of an hour."""

    def __post_init__(self) -> None:
        if not self.environments:
            raise ValueError(f"account {self.account_id}: no environment to create CI roles for")


class GithubDeployers(Construct):
    """GitHub's OIDC provider in one account and the deployer and planner role of each environment."""

    def __init__(self, scope: Construct, id: str, props: GithubDeployersProps) -> None:
        super().__init__(scope, id)
        from cdktf_cdktf_provider_aws.iam_openid_connect_provider import IamOpenidConnectProvider
        from cdktf_cdktf_provider_aws.iam_policy import IamPolicy
        from cdktf_cdktf_provider_aws.iam_role import IamRole
        from cdktf_cdktf_provider_aws.iam_role_policy import IamRolePolicy
        from cdktf_cdktf_provider_aws.iam_role_policy_attachment import IamRolePolicyAttachment

        provider = IamOpenidConnectProvider(
            self,
            "github",
            url=f"https://{props.oidc_host}",
            client_id_list=[props.oidc_audience],
            thumbprint_list=list(GITHUB_OIDC_THUMBPRINTS),
        )

        def trust(subjects: Sequence[str]) -> str:
            return policy(
                {
                    "Effect": "Allow",
                    "Principal": {"Federated": provider.arn},
                    "Action": "sts:AssumeRoleWithWebIdentity",
                    "Condition": {
                        "StringEquals": {
                            f"{props.oidc_host}:aud": props.oidc_audience,
                            f"{props.oidc_host}:sub": list(subjects),
                        }
                    },
                }
            )

        self.deployers: dict[str, IamRole] = {}
        self.planners: dict[str, IamRole] = {}
        self.boundaries: dict[str, IamPolicy] = {}
        for env in props.environments:
            # The boundary is a managed policy under the CI prefix: the environment's deployer can neither edit nor drop it.
            self.boundaries[env.name] = IamPolicy(
                self,
                f"{env.name}-boundary",
                name=env.scope.boundary_name,
                description=f"The most any role of {env.name} may do; its deployer creates roles only with it",
                policy=boundary_policy(env.scope),
            )
            deployer = IamRole(
                self,
                f"{env.name}-deployer",
                name=env.deployer_role,
                description=f"CI deploys of {env.name} (GitHub environment {env.name} only)",
                assume_role_policy=trust([env.deploy_subject]),
                max_session_duration=props.max_session_hours * 3600,
            )
            # Everything except IAM and Organizations, bounded by the denials of the inline policy; IAM only within the boundary.
            IamRolePolicyAttachment(
                self, f"{env.name}-deployer-power-user", role=deployer.name, policy_arn=managed_policy(props.partition, "PowerUserAccess")
            )
            IamRolePolicy(self, f"{env.name}-deployer-access", name="environment-iam-and-state", role=deployer.id, policy=deployer_policy(env.scope))
            planner = IamRole(
                self,
                f"{env.name}-planner",
                name=env.planner_role,
                description=f"Read-only previews of {env.name} for pull requests",
                assume_role_policy=trust(props.plan_subjects),
            )
            IamRolePolicy(self, f"{env.name}-planner-read", name="read-configuration-and-state", role=planner.id, policy=planner_policy(env.scope))
            self.deployers[env.name] = deployer
            self.planners[env.name] = planner

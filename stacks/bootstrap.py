"""BootstrapStack: what the environments need before their first deploy (``cdktf deploy bootstrap``).

For every AWS account the environments deploy into: the Terraform state bucket(s) their files name
and the CI roles (see ``platform_constructs/aws/bootstrap.py``). An administrator deploys it once,
and again whenever an environment is added; CI never deploys it, so no CI role can widen its own trust.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from cdktf import Aspects, LocalBackend, TerraformOutput, TerraformProvider, TerraformResource, TerraformStack
from constructs import Construct

from flightdeck import ci
from flightdeck.config import ENVIRONMENT_TAG, AwsEnvironment, BootstrapConfig, EnvironmentConfig
from platform_constructs.aws.bootstrap import (
    CiEnvironment,
    GithubConnection,
    GithubConnectionProps,
    GithubDeployers,
    GithubDeployersProps,
    StateBucket,
    StateBucketProps,
)
from platform_constructs.aws.ci_policies import CiScope
from platform_constructs.tagging import RequireTags

from .backends import locked_s3_backend

STACK_NAME = "bootstrap"


class BootstrapStack(TerraformStack):
    def __init__(
        self, scope: Construct, config: BootstrapConfig, environments: Sequence[EnvironmentConfig], *, local_state: bool = False
    ) -> None:
        super().__init__(scope, STACK_NAME)
        from cdktf_cdktf_provider_aws.provider import AwsProvider, AwsProviderAssumeRole, AwsProviderDefaultTags

        self.config = config
        self.tag_check = RequireTags(self)
        Aspects.of(self).add(self.tag_check)
        if local_state:
            # The first deploy: the bucket that will hold this state does not exist yet.
            LocalBackend(self, path="bootstrap.tfstate")
        else:
            locked_s3_backend(self, bucket=config.state.bucket, key=config.state_key, region=config.state.region)

        # State buckets and CI roles for AWS accounts; other clouds' environments bring their own (see the README).
        by_account: dict[str, list[AwsEnvironment]] = defaultdict(list)
        for env in environments:
            if isinstance(env, AwsEnvironment):
                by_account[env.aws.account_id].append(env)
        self.deployers: dict[str, str] = {}
        self.connections: dict[str, str] = {}
        for account_id, envs in sorted(by_account.items()):
            partition = envs[0].aws.partition
            providers: dict[str, AwsProvider] = {}
            # The state buckets' regions and the environments' own (their runners' GitHub connection).
            for region in sorted({env.state_region for env in envs} | {env.aws.region for env in envs}):
                providers[region] = AwsProvider(
                    self,
                    f"aws-{account_id}-{region}",
                    alias=f"account_{account_id}_{region.replace('-', '_')}",
                    region=region,
                    allowed_account_ids=[account_id],
                    assume_role=[
                        AwsProviderAssumeRole(
                            role_arn=f"arn:{partition}:iam::{account_id}:role/{config.aws.admin_role_name}",
                            session_name="flightdeck-bootstrap",
                        )
                    ],
                    default_tags=[AwsProviderDefaultTags(tags=config.tags)],
                )
            account = Construct(self, f"account-{account_id}")
            buckets: dict[str, StateBucket] = {}
            for env in envs:
                name = env.state.bucket
                if name not in buckets:
                    buckets[name] = StateBucket(account, f"state-{name}", StateBucketProps(name=name, account_id=account_id, partition=partition))
                    _use_provider(buckets[name], providers[env.state_region])
            deployers = GithubDeployers(
                account,
                "github",
                GithubDeployersProps(
                    account_id=account_id,
                    partition=partition,
                    plan_subjects=ci.plan_subjects(config.github.repository, config.github.default_branch),
                    oidc_host=ci.GITHUB_OIDC_HOST,
                    oidc_audience=ci.GITHUB_OIDC_AUDIENCE,
                    environments=[
                        CiEnvironment(
                            name=env.name,
                            deployer_role=ci.deployer_role_name(env),
                            planner_role=ci.planner_role_name(env),
                            deploy_subject=ci.deploy_subject(config.github.repository, env.name),
                            scope=ci_scope(env, buckets[env.state.bucket]),
                        )
                        for env in envs
                    ],
                ),
            )
            _use_provider(deployers, next(iter(providers.values())))
            for env in envs:
                self.deployers[env.name] = deployers.deployers[env.name].arn
            for region in sorted({env.aws.region for env in envs}):
                connection = GithubConnection(account, f"github-{region}", GithubConnectionProps(name=f"{config.project}-github"))
                _use_provider(connection, providers[region])
                self.connections[f"{account_id}/{region}"] = connection.arn
        TerraformOutput(self, "deployer_roles", value=self.deployers, description="Role each environment's deploy job assumes")
        TerraformOutput(
            self,
            "github_connections",
            value=self.connections,
            description="Complete each one once in the console (Developer Tools > Connections) before the first platform deploy",
        )


def ci_scope(env: AwsEnvironment, state: StateBucket) -> CiScope:
    """What an environment's CI roles may reach, from its file."""
    prefix = f"{env.resource_prefix}-"
    return CiScope(
        name=env.name,
        account_id=env.aws.account_id,
        partition=env.aws.partition,
        manages_prefix=prefix,
        ci_prefix=ci.ci_prefix(env.project),
        boundary_name=ci.boundary_policy_name(env),
        # A task log bucket named in the file need not start with the prefix.
        bucket_names=[] if env.log_bucket_name.startswith(prefix) else [env.log_bucket_name],
        image_repository=env.image_repository_name,
        state_bucket_arn=state.arn,
        state_prefix=env.state_prefix,
        state_key=state.key,
        environment_tag=(ENVIRONMENT_TAG, env.name),
        dns_zones=[zone.id] if (zone := env.airflow.ui.dns_zone) else [],
    )


def _use_provider(scope: Construct, provider: TerraformProvider) -> None:
    """Point every resource under ``scope`` at ``provider`` (one aliased provider per account and region)."""
    for node in scope.node.find_all():
        if isinstance(node, TerraformResource):
            node.provider = provider

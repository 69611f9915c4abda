"""Names CI and the bootstrap stack agree on: deployer and planner roles, OIDC subjects, deploy order.

The bootstrap stack creates the roles, the generated workflow (``flightdeck/workflow.py``) assumes
them; both take the names from here, so they cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

from .config import CI_NAME, AwsEnvironment, EnvironmentBase, Tier

WORKFLOW_NAME = "flightdeck"
"""The generated workflow's ``name:``; an environment's runner starts builds for this workflow's jobs only."""
GITHUB_OIDC_HOST = "token.actions.githubusercontent.com"
GITHUB_OIDC_AUDIENCE = "sts.amazonaws.com"
DEPLOY_ORDER = (Tier.DEV, Tier.QA, Tier.PROD)
"""Promotion order: every dev environment, then every qa, then every prod."""


def deployer_role_name(config: EnvironmentBase) -> str:
    """The role the main branch's deploy job assumes for this environment (``flightdeck-ci-prod-deploy``).

    Not under the environment's own prefix (``flightdeck-prod-``), which the role may manage:
    a deployer cannot widen its own permissions.
    """
    return f"{ci_prefix(config.project)}{config.name}-deploy"


def planner_role_name(config: EnvironmentBase) -> str:
    """The read-only role pull requests use for ``cdktf diff`` of this environment."""
    return f"{ci_prefix(config.project)}{config.name}-plan"


def boundary_policy_name(config: EnvironmentBase) -> str:
    """The permissions boundary every role of the environment carries (``flightdeck-ci-prod-boundary``).

    Under the CI prefix, which no deployer may change, so no deployer can widen its own environment's boundary.
    """
    return f"{ci_prefix(config.project)}{config.name}-boundary"


def ci_prefix(project: str) -> str:
    """The start of every CI identity's and boundary's name (``flightdeck-ci-``)."""
    return f"{project}-{CI_NAME}-"


def boundary_arn(config: AwsEnvironment) -> str:
    return f"arn:{config.aws.partition}:iam::{config.aws.account_id}:policy/{boundary_policy_name(config)}"


def runner_project(config: EnvironmentBase) -> str:
    """The CodeBuild project that runs an environment's cluster-stack jobs inside its VPC (``flightdeck-prod-runner``)."""
    return f"{config.resource_prefix}-runner"


def runner_label(config: EnvironmentBase) -> str:
    """``runs-on`` of a job on that runner: CodeBuild's label names the project and this run."""
    return f"codebuild-{runner_project(config)}-${{{{ github.run_id }}}}-${{{{ github.run_attempt }}}}"


def role_arn(config: AwsEnvironment, role_name: str) -> str:
    return f"arn:{config.aws.partition}:iam::{config.aws.account_id}:role/{role_name}"


def deploy_subject(repository: str, environment: str) -> str:
    """The OIDC ``sub`` of a job bound to a GitHub environment: only that job can deploy it."""
    return f"repo:{repository}:environment:{environment}"


def plan_subjects(repository: str, branch: str) -> list[str]:
    """Pull requests, and the default branch's preview before its deploys."""
    return [f"repo:{repository}:pull_request", f"repo:{repository}:ref:refs/heads/{branch}"]


E = TypeVar("E", bound=EnvironmentBase)


def deploy_waves(configs: Sequence[E]) -> list[list[E]]:
    """The environments grouped by tier in promotion order; a wave deploys after the previous one."""
    waves = [sorted((c for c in configs if c.tier is tier), key=lambda c: c.name) for tier in DEPLOY_ORDER]
    return [wave for wave in waves if wave]

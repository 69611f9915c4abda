"""``bootstrap.yaml``: what every environment needs before its first deploy."""

from __future__ import annotations

import re

from pydantic import Field

from .primitives import AwsRegion, BucketName, CostCenter, Model, Slug, standard_tags

SLUG_PATTERN = re.compile(r"^[a-z][a-z0-9-]{0,38}[a-z0-9]$")
CI_NAME = "ci"
"""Flightdeck's CI identities are named ``<project>-ci-…`` (``flightdeck/ci.py``); no environment may be named so."""
BOOTSTRAP_NAME = "bootstrap"
"""The bootstrap stack's name and the folder of its state (``<project>/bootstrap/``); no environment may be named so."""


class GithubRepository(Model):
    repository: str = Field(pattern=r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")
    """``owner/name`` of the repository whose workflow deploys; no other repository's tokens are trusted."""
    default_branch: str = Field(default="main", pattern=r"^[A-Za-z0-9._/-]+$")
    """The branch whose pushes deploy (the workflow's trigger)."""


class BootstrapAws(Model):
    admin_role_name: str = Field(default="OrganizationAccountAccessRole", pattern=r"^[A-Za-z0-9+=,.@_-]{1,64}$")
    """Role an administrator assumes in each environment's account to create the bootstrap
    resources (AWS Organizations creates this one in every member account)."""


class BootstrapState(Model):
    bucket: BucketName
    """Where the bootstrap stack keeps its own state: one of the state buckets it creates."""
    region: AwsRegion


class BootstrapConfig(Model):
    """``bootstrap.yaml``: what every environment needs before its first deploy (state buckets, CI roles)."""

    source: str
    project: Slug = "flightdeck"
    owner: Slug
    cost_center: CostCenter
    github: GithubRepository
    aws: BootstrapAws = BootstrapAws()
    state: BootstrapState

    @property
    def tags(self) -> dict[str, str]:
        return standard_tags("bootstrap", self.owner, self.cost_center)

    @property
    def state_key(self) -> str:
        return f"{self.project}/{BOOTSTRAP_NAME}/terraform.tfstate"

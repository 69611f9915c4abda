"""The types every configuration model is built from: tiers, regions, ranges, names, and ``Model``."""

from __future__ import annotations

import ipaddress
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

# AWS commercial and GovCloud regions that offer EKS, RDS PostgreSQL and S3.
AWS_REGIONS = frozenset(
    {
        "af-south-1", "ap-east-1", "ap-east-2", "ap-northeast-1", "ap-northeast-2", "ap-northeast-3",
        "ap-south-1", "ap-south-2", "ap-southeast-1", "ap-southeast-2", "ap-southeast-3",
        "ap-southeast-4", "ap-southeast-5", "ap-southeast-7", "ca-central-1", "ca-west-1",
        "eu-central-1", "eu-central-2", "eu-north-1", "eu-south-1", "eu-south-2", "eu-west-1",
        "eu-west-2", "eu-west-3", "il-central-1", "me-central-1", "me-south-1", "mx-central-1",
        "sa-east-1", "us-east-1", "us-east-2", "us-west-1", "us-west-2",
        "us-gov-east-1", "us-gov-west-1",
    }
)

# The retention periods CloudWatch Logs accepts (anything else is rejected at apply time).
CLOUDWATCH_RETENTION_DAYS = (
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557,
    2922, 3288, 3653,
)


class Tier(StrEnum):
    """How big and how available an environment is. Everything else is the same in every tier."""

    DEV = "dev"
    QA = "qa"
    PROD = "prod"


def _aws_region(value: str) -> str:
    if value not in AWS_REGIONS:
        raise ValueError(f"'{value}' is not an AWS region (for example eu-west-1 or us-east-2)")
    return value


def _private_vpc_cidr(value: str) -> str:
    try:
        network = ipaddress.IPv4Network(value, strict=True)
    except ValueError as exc:
        raise ValueError(f"'{value}' is not a valid IPv4 CIDR block ({exc})") from None
    if not network.is_private:
        raise ValueError(f"{value} is not a private range (use one inside 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16)")
    if not 16 <= network.prefixlen <= 20:
        raise ValueError(f"{value} has a /{network.prefixlen} prefix; a VPC needs a /16 to /20 block")
    return str(network)


def _cidr(value: str) -> str:
    try:
        return str(ipaddress.IPv4Network(value, strict=True))
    except ValueError as exc:
        raise ValueError(f"'{value}' is not a valid IPv4 CIDR block ({exc})") from None


def _retention(value: int) -> int:
    if value not in CLOUDWATCH_RETENTION_DAYS:
        raise ValueError(f"{value} is not a CloudWatch retention period; choose one of {list(CLOUDWATCH_RETENTION_DAYS)}")
    return value


AwsRegion = Annotated[str, AfterValidator(_aws_region)]
VpcCidr = Annotated[str, AfterValidator(_private_vpc_cidr)]
Cidr = Annotated[str, AfterValidator(_cidr)]
RetentionDays = Annotated[int, AfterValidator(_retention)]
Slug = Annotated[str, Field(pattern=r"^[a-z][a-z0-9-]{0,38}[a-z0-9]$")]
BucketName = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")]
IamRoleArn = Annotated[str, Field(pattern=r"^arn:aws(-us-gov)?:iam::\d{12}:role/[A-Za-z0-9+=,.@_/-]+$")]
CostCenter = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{1,31}$")]


ENVIRONMENT_TAG = "env"
"""The tag naming a resource's environment; the CI deployer recognises the environment's KMS keys by it."""


def standard_tags(env: str, team: str, cost_center: str) -> dict[str, str]:
    """The tags every cloud resource carries (``platform_constructs/tagging.py`` requires the first three)."""
    return {ENVIRONMENT_TAG: env, "team": team, "cost-center": cost_center, "managed-by": "flightdeck"}


class Model(BaseModel):
    """Base of every configuration model: frozen, unknown keys rejected, no silent coercion of
    numbers into strings (YAML turns ``0123`` into an int, which should not become a cost center)."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


SecretName = Annotated[str, Field(pattern=r"^[A-Za-z0-9/_+=.@-]{1,512}$")]

"""Task-log bucket (S3) and the Airflow image repository (ECR)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING

from constructs import Construct

from ..handles import ImageRepositoryHandle, LogStore
from ..workloads import SHARED_AIRFLOW
from .iam import policy
from .kms import KmsKeyHandle

if TYPE_CHECKING:
    from cdktf_cdktf_provider_aws.s3_bucket import S3Bucket

LOG_PREFIX = f"{SHARED_AIRFLOW.folder}/"


@dataclass(frozen=True, kw_only=True)
class LogBucketProps:
    name: str
    key: KmsKeyHandle
    region: str
    expire_after_days: int = 30
    """Task logs older than this are deleted; prod keeps them longer."""
    noncurrent_expire_after_days: int = 7
    """Overwritten or deleted log versions are kept this long (versioning guards against mistakes, not for archive)."""

    def __post_init__(self) -> None:
        if self.expire_after_days < 1:
            raise ValueError(f"log expiry must be at least one day, got {self.expire_after_days}")


@dataclass(frozen=True, kw_only=True)
class PrivateBucketProps:
    name: str
    key: KmsKeyHandle
    """Objects are encrypted with this key by default."""
    lifecycle_rule: str
    """Name of the bucket's one lifecycle rule."""
    expire_after_days: int | None
    """Current objects are deleted after this many days; None keeps them (state files)."""
    noncurrent_expire_after_days: int
    """Overwritten or deleted versions are kept this long."""


def private_bucket(scope: Construct, props: PrivateBucketProps) -> S3Bucket:
    """An S3 bucket no one outside the account can reach: owner-enforced, public access blocked,
    versioned, encrypted with ``key``, TLS only, with a lifecycle rule.

    The resources are created directly in ``scope`` (ids ``bucket``, ``ownership``, ``public-access``,
    ``versioning``, ``encryption``, ``tls-only``, ``lifecycle``), so every bucket built this way has the
    same addresses under its construct.
    """
    from cdktf_cdktf_provider_aws.s3_bucket import S3Bucket
    from cdktf_cdktf_provider_aws.s3_bucket_lifecycle_configuration import (
        S3BucketLifecycleConfiguration,
        S3BucketLifecycleConfigurationRule,
        S3BucketLifecycleConfigurationRuleAbortIncompleteMultipartUpload,
        S3BucketLifecycleConfigurationRuleExpiration,
        S3BucketLifecycleConfigurationRuleFilter,
        S3BucketLifecycleConfigurationRuleNoncurrentVersionExpiration,
    )
    from cdktf_cdktf_provider_aws.s3_bucket_ownership_controls import (
        S3BucketOwnershipControls,
        S3BucketOwnershipControlsRule,
    )
    from cdktf_cdktf_provider_aws.s3_bucket_policy import S3BucketPolicy
    from cdktf_cdktf_provider_aws.s3_bucket_public_access_block import S3BucketPublicAccessBlock
    from cdktf_cdktf_provider_aws.s3_bucket_server_side_encryption_configuration import (
        S3BucketServerSideEncryptionConfigurationA,
        S3BucketServerSideEncryptionConfigurationRuleA,
        S3BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultA,
    )
    from cdktf_cdktf_provider_aws.s3_bucket_versioning import (
        S3BucketVersioningA,
        S3BucketVersioningVersioningConfiguration,
    )

    bucket = S3Bucket(scope, "bucket", bucket=props.name)
    S3BucketOwnershipControls(
        scope,
        "ownership",
        bucket=bucket.id,
        rule=S3BucketOwnershipControlsRule(object_ownership="BucketOwnerEnforced"),
    )
    public_access = S3BucketPublicAccessBlock(
        scope,
        "public-access",
        bucket=bucket.id,
        block_public_acls=True,
        block_public_policy=True,
        ignore_public_acls=True,
        restrict_public_buckets=True,
    )
    S3BucketVersioningA(
        scope,
        "versioning",
        bucket=bucket.id,
        versioning_configuration=S3BucketVersioningVersioningConfiguration(status="Enabled"),
    )
    S3BucketServerSideEncryptionConfigurationA(
        scope,
        "encryption",
        bucket=bucket.id,
        rule=[
            S3BucketServerSideEncryptionConfigurationRuleA(
                apply_server_side_encryption_by_default=S3BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultA(
                    sse_algorithm="aws:kms", kms_master_key_id=props.key.arn
                ),
                # Bucket keys cut KMS requests (and cost) when many small objects are written.
                bucket_key_enabled=True,
            )
        ],
    )
    S3BucketPolicy(
        scope,
        "tls-only",
        bucket=bucket.id,
        policy=policy(
            {
                "Sid": "DenyInsecureTransport",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:*",
                "Resource": [bucket.arn, f"{bucket.arn}/*"],
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            }
        ),
        # S3 rejects policy changes while the public access block is being written.
        depends_on=[public_access],
    )
    S3BucketLifecycleConfiguration(
        scope,
        "lifecycle",
        bucket=bucket.id,
        rule=[
            S3BucketLifecycleConfigurationRule(
                id=props.lifecycle_rule,
                status="Enabled",
                filter=[S3BucketLifecycleConfigurationRuleFilter(prefix="")],
                expiration=[S3BucketLifecycleConfigurationRuleExpiration(days=props.expire_after_days)]
                if props.expire_after_days is not None
                else None,
                noncurrent_version_expiration=[
                    S3BucketLifecycleConfigurationRuleNoncurrentVersionExpiration(
                        noncurrent_days=props.noncurrent_expire_after_days
                    )
                ],
                abort_incomplete_multipart_upload=[
                    S3BucketLifecycleConfigurationRuleAbortIncompleteMultipartUpload(days_after_initiation=1)
                ],
            )
        ],
    )
    return bucket


class LogBucket(Construct):
    def __init__(self, scope: Construct, id: str, props: LogBucketProps) -> None:
        super().__init__(scope, id)
        self.bucket = private_bucket(
            self,
            PrivateBucketProps(
                name=props.name,
                key=props.key,
                lifecycle_rule="expire-task-logs",
                expire_after_days=props.expire_after_days,
                noncurrent_expire_after_days=props.noncurrent_expire_after_days,
            ),
        )
        self.handle = LogStore(
            bucket=self.bucket.bucket,
            remote_base_log_folder=f"s3://{props.name}/{LOG_PREFIX.rstrip('/')}",
            connection_id="aws_logs",
            # No keys in the connection: boto3 picks up the pod identity credentials.
            connection_uri=f"aws://?region_name={props.region}",
            encryption_key=props.key.arn,
        )


@dataclass(frozen=True, kw_only=True)
class ImageRepositoryProps:
    name: str
    key: KmsKeyHandle
    keep_untagged_days: int = 14
    """Untagged images (superseded builds) are removed after this many days."""


class ImageRepository(Construct):
    def __init__(self, scope: Construct, id: str, props: ImageRepositoryProps) -> None:
        super().__init__(scope, id)
        from cdktf_cdktf_provider_aws.ecr_lifecycle_policy import EcrLifecyclePolicy
        from cdktf_cdktf_provider_aws.ecr_repository import (
            EcrRepository,
            EcrRepositoryEncryptionConfiguration,
            EcrRepositoryImageScanningConfiguration,
        )

        self.repository = EcrRepository(
            self,
            "repository",
            name=props.name,
            # Immutable tags: a tag always means the image that was tested under it.
            image_tag_mutability="IMMUTABLE",
            image_scanning_configuration=EcrRepositoryImageScanningConfiguration(scan_on_push=True),
            encryption_configuration=[
                EcrRepositoryEncryptionConfiguration(encryption_type="KMS", kms_key=props.key.arn)
            ],
        )
        EcrLifecyclePolicy(
            self,
            "lifecycle",
            repository=self.repository.name,
            policy=json.dumps(
                {
                    "rules": [
                        {
                            "rulePriority": 1,
                            "description": f"expire untagged images after {props.keep_untagged_days} days",
                            "selection": {
                                "tagStatus": "untagged",
                                "countType": "sinceImagePushed",
                                "countUnit": "days",
                                "countNumber": props.keep_untagged_days,
                            },
                            "action": {"type": "expire"},
                        }
                    ]
                }
            ),
        )
        self.handle = ImageRepositoryHandle(url=self.repository.repository_url)

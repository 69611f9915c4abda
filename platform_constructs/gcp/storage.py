"""Task-log bucket (Cloud Storage) and the Airflow image repository (Artifact Registry)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from constructs import Construct

from ..handles import ImageRepositoryHandle, LogStore
from ..workloads import SHARED_AIRFLOW

LOG_PREFIX = f"{SHARED_AIRFLOW.folder}/"
"""The one prefix Airflow writes task logs under; workload identities are limited to it."""


@dataclass(frozen=True, kw_only=True)
class GcsLogBucketProps:
    name: str
    project_id: str
    region: str
    """The bucket is regional, next to the cluster (no cross-region egress for every log line)."""
    expire_after_days: int = 30
    """Task logs older than this are deleted; prod keeps them longer."""
    noncurrent_expire_after_days: int = 7
    """Overwritten or deleted log versions are kept this long (versioning guards against mistakes, not for archive)."""

    def __post_init__(self) -> None:
        if self.expire_after_days < 1:
            raise ValueError(f"log expiry must be at least one day, got {self.expire_after_days}")


class GcsLogBucket(Construct):
    def __init__(self, scope: Construct, id: str, props: GcsLogBucketProps) -> None:
        super().__init__(scope, id)
        from cdktf_cdktf_provider_google.storage_bucket import (
            StorageBucket,
            StorageBucketLifecycleRule,
            StorageBucketLifecycleRuleAction,
            StorageBucketLifecycleRuleCondition,
            StorageBucketVersioning,
        )

        self.bucket = StorageBucket(
            self,
            "bucket",
            name=props.name,
            project=props.project_id,
            location=props.region.upper(),
            # IAM only (no object ACLs), so the prefix conditions on the workloads' grants are the whole story.
            uniform_bucket_level_access=True,
            public_access_prevention="enforced",
            versioning=StorageBucketVersioning(enabled=True),
            force_destroy=False,
            lifecycle_rule=[
                StorageBucketLifecycleRule(
                    action=StorageBucketLifecycleRuleAction(type="Delete"),
                    condition=StorageBucketLifecycleRuleCondition(age=props.expire_after_days, with_state="LIVE"),
                ),
                StorageBucketLifecycleRule(
                    action=StorageBucketLifecycleRuleAction(type="Delete"),
                    condition=StorageBucketLifecycleRuleCondition(
                        days_since_noncurrent_time=props.noncurrent_expire_after_days, with_state="ARCHIVED"
                    ),
                ),
            ],
        )
        self.handle = LogStore(
            bucket=self.bucket.name,
            remote_base_log_folder=f"gs://{props.name}/{LOG_PREFIX.rstrip('/')}",
            connection_id="gcp_logs",
            # No key in the connection: the Google client libraries use the pod's Workload Identity (ADC).
            connection_uri="google-cloud-platform://",
        )


@dataclass(frozen=True, kw_only=True)
class ArtifactRepositoryProps:
    name: str
    """Repository id (``flightdeck-prod-airflow``)."""
    project_id: str
    region: str
    readers: Mapping[str, str] = field(default_factory=dict)
    """IAM members that may pull images, by a name of their own (``nodes``: the nodes' service account);
    the name is the grant's construct id, so a member's grant never moves when another is added."""
    keep_untagged_days: int = 14
    """Untagged images (superseded builds) are removed after this many days."""

    def __post_init__(self) -> None:
        if self.keep_untagged_days < 1:
            raise ValueError(f"untagged images must be kept at least one day, got {self.keep_untagged_days}")


class ArtifactRepository(Construct):
    def __init__(self, scope: Construct, id: str, props: ArtifactRepositoryProps) -> None:
        super().__init__(scope, id)
        from cdktf_cdktf_provider_google.artifact_registry_repository import (
            ArtifactRegistryRepository,
            ArtifactRegistryRepositoryCleanupPolicies,
            ArtifactRegistryRepositoryCleanupPoliciesCondition,
            ArtifactRegistryRepositoryDockerConfig,
        )
        from cdktf_cdktf_provider_google.artifact_registry_repository_iam_member import (
            ArtifactRegistryRepositoryIamMember,
        )

        self.repository = ArtifactRegistryRepository(
            self,
            "repository",
            repository_id=props.name,
            project=props.project_id,
            location=props.region,
            format="DOCKER",
            description="Airflow images",
            # Immutable tags: a tag always means the image that was tested under it.
            docker_config=ArtifactRegistryRepositoryDockerConfig(immutable_tags=True),
            cleanup_policy_dry_run=False,
            cleanup_policies=[
                ArtifactRegistryRepositoryCleanupPolicies(
                    id="delete-untagged",
                    action="DELETE",
                    condition=ArtifactRegistryRepositoryCleanupPoliciesCondition(
                        tag_state="UNTAGGED", older_than=f"{props.keep_untagged_days * 86400}s"
                    ),
                )
            ],
        )
        for name, member in props.readers.items():
            ArtifactRegistryRepositoryIamMember(
                self,
                f"reader-{name}",
                project=props.project_id,
                location=props.region,
                repository=self.repository.name,
                role="roles/artifactregistry.reader",
                member=member,
            )
        self.handle = ImageRepositoryHandle(url=f"{props.region}-docker.pkg.dev/{props.project_id}/{props.name}/airflow")

"""Where a stack keeps its Terraform state: S3, GCS or a local file (core cdktf backends, no provider bindings)."""

from __future__ import annotations

from cdktf import TerraformStack


def locked_s3_backend(stack: TerraformStack, *, bucket: str, key: str, region: str) -> None:
    """Keep the stack's state encrypted in S3, with S3-native locking (a lock object next to the state)."""
    from cdktf import S3Backend

    backend = S3Backend(stack, bucket=bucket, key=key, region=region, encrypt=True)
    # cdktf 0.21's typed backend config predates the option, so it is set as an override.
    backend.add_override("use_lockfile", True)


def gcs_backend(stack: TerraformStack, *, bucket: str, prefix: str) -> None:
    """Keep the stack's state in GCS (``<prefix>/default.tfstate``); GCS locks it natively."""
    from cdktf import GcsBackend

    GcsBackend(stack, bucket=bucket, prefix=prefix)


def local_backend(stack: TerraformStack, *, path: str) -> None:
    """Keep the stack's state in a local file; ``path`` is relative to the project folder.

    Terraform runs in ``cdktf.out/stacks/<env>``, so the path is written relative to there: the
    state then survives ``make clean`` and a fresh synthesis.
    """
    from cdktf import LocalBackend

    LocalBackend(stack, path=f"../../../{path}")

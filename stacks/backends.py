"""Where each stack keeps its Terraform state: S3, GCS or a local file (core cdktf backends, no provider bindings).

Backends are set here and nowhere else: the construct library never configures its stack.
"""

from __future__ import annotations

from cdktf import TerraformStack

from flightdeck.config import (
    AwsEnvironment,
    EnvironmentConfig,
    ExistingEnvironment,
    GcpEnvironment,
    GcsState,
    LocalState,
    StackPart,
    StateBackend,
)


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

    Terraform runs in ``cdktf.out/stacks/<stack>``, so the path is written relative to there: the
    state then survives ``make clean`` and a fresh synthesis.
    """
    from cdktf import LocalBackend

    LocalBackend(stack, path=f"../../../{path}")


def environment_backend(stack: TerraformStack, config: EnvironmentConfig, part: StackPart) -> None:
    """The backend of one of an environment's stacks, each under the environment's own state prefix."""
    if isinstance(config, AwsEnvironment):
        locked_s3_backend(stack, bucket=config.state.bucket, key=config.state_key(part), region=config.state_region)
    elif isinstance(config, GcpEnvironment):
        gcs_backend(stack, bucket=config.state.bucket, prefix=config.state_folder(part))
    elif isinstance(config, ExistingEnvironment):
        state = config.state
        if isinstance(state, StateBackend):
            # The model requires the region for S3 here: there is no AWS account to take it from.
            locked_s3_backend(stack, bucket=state.bucket, key=config.state_key(part), region=state.region or "")
        elif isinstance(state, GcsState):
            gcs_backend(stack, bucket=state.bucket, prefix=config.state_folder(part))
        else:
            local_backend(stack, path=(state or LocalState(path=f"terraform-state/{config.name}.tfstate")).path)
    else:  # the configuration's union is closed; a new cloud meets this first
        raise TypeError(f"no backend for {type(config).__name__}")

"""What every cloud's database does about Airflow's one-way migrations and about restores.

Airflow's schema only goes forward, so each cloud keeps, beside each database instance, the Airflow
version last deployed to it, and refuses a plan below it (``aws/schema_guard.py``: an SSM parameter;
``gcp/database.py``: a label on the Cloud SQL instance). Both compare versions with ``VERSION_ORDER``.
A restore is always a new instance; the one it replaces leaves Terraform without being destroyed
(``forget``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from constructs import Construct

if TYPE_CHECKING:
    from cdktf import TerraformResourceLifecycle

VERSION_ORDER = "tonumber(split(\".\", {v})[0]) * 1000000 + tonumber(split(\".\", {v})[1]) * 1000 + tonumber(split(\".\", {v})[2])"
"""An ``x.y.z`` version as one comparable number in Terraform's language (minor and patch below 1000)."""


def version_order(version: str) -> int:
    """The same number in Python: ``3.2.2`` is 3002002."""
    major, minor, patch = (int(part) for part in version.split("."))
    if minor >= 1000 or patch >= 1000:
        raise ValueError(f"Airflow version {version}: minor and patch versions above 999 cannot be compared")
    return major * 1_000_000 + minor * 1000 + patch


def downgrade_message(version: str, instance: str, way_back: str) -> str:
    """The refusal's message, with the cloud's ``way_back`` (a clause: "restore … with the older image")."""
    return (
        f"Airflow {version} is older than the version the database {instance} was migrated to, and Airflow's "
        f"migrations do not go back. To go back, {way_back}; see the README, Upgrading Airflow, and going back."
    )


def refuse_downgrade(*, each: str, deployed: str, of_this: str, version: str, message: str) -> TerraformResourceLifecycle:
    """The precondition every cloud's record carries: no version ``deployed`` (an expression of ``each``, a
    ``for`` clause over the records) of this instance (``of_this``, a condition) is above ``version``."""
    from cdktf import Precondition, TerraformResourceLifecycle

    condition = f"${{alltrue([for {each} : {VERSION_ORDER.format(v=deployed)} <= {version_order(version)} if {of_this}])}}"
    return TerraformResourceLifecycle(precondition=[Precondition(condition=condition, error_message=message)])


def restore_as_new_instance(restore_point: str) -> str:
    """The way back where Flightdeck manages the database: ``restore_point`` restored beside it."""
    return f"restore {restore_point} as a new instance (database.restore_from) with the older image"


def instance_construct_id(suffix: str | None) -> str:
    """The original instance's construct id, or a restored one's (a new address, so Terraform never replaces the old in place)."""
    return "instance" if suffix is None else f"instance-{suffix}"


def forget(scope: Construct, forgotten: Sequence[tuple[str, str]]) -> None:
    """Terraform ``removed`` blocks (``destroy = false``) for resources of ``scope``'s, given as (type, construct id).

    The resources are no longer in the configuration (a restore replaced them); their objects keep
    running, outside Terraform, until they are retired by hand.
    """
    from cdktf import TerraformStack

    stack = TerraformStack.of(scope)
    stack.add_override(
        "removed",
        [
            # The address the resource had: the logical id its construct path gives it.
            {"from": f"{kind}.{stack._allocate_logical_id(Construct(scope, construct_id).node)}", "lifecycle": {"destroy": False}}
            for kind, construct_id in forgotten
        ],
    )

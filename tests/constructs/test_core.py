"""The cloud-neutral modules at the top of ``platform_constructs``: each refusal, with its whole message.

These are plain Python (the handles a cloud hands up, the comparison of Airflow versions every
cloud's downgrade refusal uses): each case calls them directly, no stack and no binding.
"""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from platform_constructs.handles import (
    CloudPlatform,
    ClusterHandle,
    DatabaseHandle,
    DedicatedAirflow,
    IngressHandle,
    Kubeconfig,
    NetworkHandle,
    SecretStoreHandle,
    WorkloadIdentity,
)
from platform_constructs.migrations import version_order
from platform_constructs.placement import SYSTEM_POOL
from platform_constructs.workloads import EXTERNAL_SECRETS, SHARED_AIRFLOW, AirflowInstance

from .refusal import Refusals, refused_with


def cloud(dedicated_teams: Sequence[str] = ()) -> CloudPlatform:
    """A cloud's handles, with an Airflow of their own for ``dedicated_teams``."""
    return CloudPlatform(
        cluster=ClusterHandle(name="c", node_pools=(SYSTEM_POOL,), kubeconfig=Kubeconfig(path="~/.kube/config", context="c")),
        identities={},
        database=DatabaseHandle(
            host="db.internal", port=5432, database_name="airflow", username="airflow", credentials_secret="airflow-database", metrics=None
        ),
        log_store=None,
        image_repository=None,
        network=NetworkHandle(vpc_cidr="10.0.0.0/16", database_cidrs=("10.0.240.0/24",)),
        secret_store=SecretStoreHandle(provider={}, identity=WorkloadIdentity(workload=EXTERNAL_SECRETS, principal="external-secrets")),
        ingress=IngressHandle(class_name="nginx", internal_annotations={}, public_annotations={}, tls_annotation=None, source_ranges_annotation=None),
        dedicated_airflows={team: DedicatedAirflow(identities={}, log_store=None, keeps=None) for team in dedicated_teams},
    )


REFUSED: Refusals = {
    "a team's own Airflow the cloud made nothing for": (
        lambda: cloud(dedicated_teams=["marketing"]).for_airflow(AirflowInstance(team="analytics")),
        "the cloud made nothing for team analytics's own Airflow",
    ),
    "an Airflow minor version above 999": (
        lambda: version_order("3.1000.0"),
        "Airflow version 3.1000.0: minor and patch versions above 999 cannot be compared",
    ),
    "an Airflow patch version above 999": (
        lambda: version_order("2.10.1000"),
        "Airflow version 2.10.1000: minor and patch versions above 999 cannot be compared",
    ),
}


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_core_modules_refuse_what_they_cannot_build(case: str) -> None:
    make, message = REFUSED[case]
    assert refused_with(make) == message


def test_props_within_their_limits_are_accepted() -> None:
    platform = cloud(dedicated_teams=["analytics"])
    assert platform.for_airflow(SHARED_AIRFLOW) is platform
    assert platform.for_airflow(AirflowInstance(team="analytics")).database.database_name == "airflow_analytics"
    assert version_order("3.999.999") == 3_999_999

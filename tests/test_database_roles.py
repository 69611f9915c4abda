"""The database roles layer's own rules (``platform_constructs/airflow/database_roles.py``), without synthesis."""

from __future__ import annotations

import pytest

from platform_constructs.airflow.database_roles import DatabaseRole, DatabaseRolesProps, password_remote_key, roles_values
from platform_constructs.handles import DatabaseHandle, SecretStoreHandle, WorkloadIdentity
from platform_constructs.workloads import LogAccess, Workload

DATABASE = DatabaseHandle(host="db.example.internal", port=5432, database_name="airflow", username="admin", credentials_secret="s", metrics=None)
OPERATOR = Workload(name="eso", namespace="external-secrets", service_account="eso", log_access=LogAccess.NONE)
STORE = SecretStoreHandle(provider={"kubernetes": {}}, identity=WorkloadIdentity(workload=OPERATOR, principal="eso"))


def role(user: str, database: str) -> DatabaseRole:
    return DatabaseRole(user=user, database=database, password_key=f"{user}/password", secret=f"{user}-password")


@pytest.mark.parametrize(
    "roles",
    [
        [role("airflow_app", "airflow"), role("airflow_app", "airflow_analytics")],
        [role("airflow_app", "airflow"), role("airflow_analytics", "airflow")],
    ],
)
def test_two_airflows_never_share_a_role_or_a_database(roles: list[DatabaseRole]) -> None:
    with pytest.raises(ValueError, match=r"database roles \[.*\] share a name or a database; each Airflow has its own"):
        roles_values(DatabaseRolesProps(database=DATABASE, store=STORE, roles=roles, database_cidrs=["10.0.0.0/24"]))


def test_a_role_password_needs_a_store_that_keeps_what_it_generates() -> None:
    with pytest.raises(ValueError, match="Airflow's own database role needs a secret store that keeps generated values"):
        password_remote_key(STORE)

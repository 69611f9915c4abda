"""Each Airflow's own database role, made by the master user in a namespace of its own (``charts/database-roles``).

Airflow never connects as the instance's master user. A namespace that only this construct uses
holds the master secret (synced from the cloud's store) and the password of each Airflow's role
(generated once, kept in the cloud's store like Airflow's keys, in that Airflow's folder); a Job at
every deploy and a CronJob every ten minutes create each role and its database (a team's own
Airflow gets a database of its own on the environment's instance), set the password and hand the
database over. No pod in an Airflow's namespace, and so no task, can read the master secret: it
exists in this namespace only, whose network policy lets its pods reach the database and nothing else.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cdktf import Fn
from constructs import Construct

from ..handles import DatabaseHandle, SecretStoreHandle
from ..helm import from_store, kept_secrets, local_chart_release, secret_store, synced_secrets
from ..kubernetes.namespace import DefaultResources, GuardedNamespace, GuardedNamespaceProps, Peer, Port, QuotaSpec
from ..placement import SYSTEM_POOL
from ..workloads import AirflowInstance

if TYPE_CHECKING:
    from cdktf import ITerraformDependable

ROLES_CHART = Path(__file__).resolve().parents[2] / "charts" / "database-roles"
ROLES_NAMESPACE = "airflow-db-admin"
PASSWORD_KEY = "database-password"
"""The kept secret's key (``flightdeck-prod/airflow/database-password``)."""
MASTER_SECRET = "airflow-database-master"
APP_SECRET = "airflow-database-app"
"""The shared Airflow's password secret in the roles namespace; a team's own is ``airflow-database-app-<team>``."""
PSQL_IMAGE = "postgres:17.6-alpine3.22"
"""psql 17 (``\\getenv``); it talks to PostgreSQL 14 to 18."""
PASSWORD_GENERATOR = {"length": 48, "digits": 12, "symbols": 0, "noUpper": False, "allowRepeat": True}


@dataclass(frozen=True, kw_only=True)
class DatabaseRole:
    """One Airflow's login role and the database it owns."""

    user: str
    database: str
    password_key: str
    """The kept password's remote key (``flightdeck-prod/airflow-analytics/database-password``)."""
    secret: str
    """The password's Kubernetes secret in the roles namespace."""


@dataclass(frozen=True, kw_only=True)
class DatabaseRolesProps:
    database: DatabaseHandle
    """The environment's instance; ``database_name`` is the database the master user connects to."""
    store: SecretStoreHandle
    roles: Sequence[DatabaseRole]
    database_cidrs: Sequence[str]
    depends_on: Sequence[ITerraformDependable] = ()


def password_remote_key(store: SecretStoreHandle) -> str:
    """Where the password of the role of the Airflow whose keys ``store`` keeps is kept."""
    if store.keeps is None:
        raise ValueError("Airflow's own database role needs a secret store that keeps generated values")
    return store.keeps.remote_key(PASSWORD_KEY)


def database_role(instance: AirflowInstance, store: SecretStoreHandle, database: DatabaseHandle) -> DatabaseRole:
    """The role of one Airflow, from the store and database as that Airflow sees them (``CloudPlatform.for_airflow``)."""
    return DatabaseRole(
        user=instance.database_user,
        database=database.database_name,
        password_key=password_remote_key(store),
        secret=APP_SECRET if instance.team is None else f"{APP_SECRET}-{instance.team}",
    )


def roles_secrets_values(props: DatabaseRolesProps) -> dict[str, Any]:
    """The roles namespace's secrets: the master user's (read) and each Airflow's role password (generated once, kept)."""
    return {
        "secretStore": secret_store(props.store),
        "generators": [{"name": "database-password", "spec": PASSWORD_GENERATOR}],
        **kept_secrets(
            props.store, [{"name": role.secret, "generator": "database-password", "remoteKey": role.password_key} for role in props.roles]
        ),
        "externalSecrets": [
            from_store(MASTER_SECRET, props.database.credentials_secret, {"username": "{{ .username }}", "password": "{{ .password }}"}),
            *(from_store(role.secret, role.password_key, {"password": "{{ .value }}"}) for role in props.roles),
        ],
    }


def roles_values(props: DatabaseRolesProps) -> dict[str, Any]:
    database = props.database
    users = [role.user for role in props.roles]
    if len(set(users)) != len(users) or len({role.database for role in props.roles}) != len(users):
        raise ValueError(f"database roles {users} share a name or a database; each Airflow has its own")
    values: dict[str, Any] = {
        "image": PSQL_IMAGE,
        "database": {"host": database.host, "port": str(database.port), "name": database.database_name, "sslmode": database.tls},
        "roles": [{"user": role.user, "database": role.database, "passwordSecretName": role.secret} for role in props.roles],
        "masterSecret": MASTER_SECRET,
        "nodeSelector": SYSTEM_POOL.node_selector(),
        "tolerations": SYSTEM_POOL.tolerations(),
    }
    sql = (ROLES_CHART / "files" / "roles.sql").read_text()
    # A new Job whenever what it applies changes (Jobs are immutable); the CronJob keeps it applied in between.
    # The host is known only to Terraform (another stack's output): Terraform hashes its value, so a restored
    # instance gets a new Job, and the token standing for it at synthesis (numbered, shifting with unrelated
    # changes) never reaches the hash.
    known = {**values, "database": {**values["database"], "host": None}}
    digest = hashlib.sha256((sql + json.dumps(known, sort_keys=True)).encode()).hexdigest()[:10]
    values["revision"] = f"{digest}-{Fn.substr(Fn.sha256(database.host), 0, 6)}"
    return values


class DatabaseRoles(Construct):
    def __init__(self, scope: Construct, id: str, props: DatabaseRolesProps) -> None:
        super().__init__(scope, id)
        namespace = GuardedNamespace(
            self,
            "namespace",
            GuardedNamespaceProps(
                name=ROLES_NAMESPACE,
                quota=QuotaSpec(cpu="1", memory="1Gi", pods=10),
                default_resources=DefaultResources(cpu="50m", memory="64Mi"),
                enforce="restricted",
                depends_on=props.depends_on,
            ),
        )
        namespace.allow_egress(
            "database", to=[Peer(cidr=cidr) for cidr in props.database_cidrs], ports=[Port(props.database.port)]
        )
        secrets = synced_secrets(
            self,
            "secrets",
            release_name="airflow-db-admin-secrets",
            namespace=ROLES_NAMESPACE,
            values=roles_secrets_values(props),
            depends_on=[*props.depends_on, namespace.namespace],
        )
        self.release = local_chart_release(
            self,
            "roles",
            chart=ROLES_CHART,
            release_name="database-roles",
            namespace=ROLES_NAMESPACE,
            values=roles_values(props),
            depends_on=[secrets],
        )
        # Helm waits for the Job: Airflow's release (and its migration) starts once the role exists.
        self.release.wait_for_jobs = True

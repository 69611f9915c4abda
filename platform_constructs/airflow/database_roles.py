"""Airflow's own database role, made by the master user in a namespace of its own (``charts/database-roles``).

Airflow never connects as the instance's master user. A namespace that only this construct uses
holds the master secret (synced from the cloud's store) and the password of Airflow's role (generated
once, kept in the cloud's store like Airflow's keys); a Job at every deploy and a CronJob every ten
minutes create the role, set its password and give it Airflow's database. No pod in Airflow's
namespace, and so no task, can read the master secret: it exists in this namespace only, whose
network policy lets its pods reach the database and nothing else.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from constructs import Construct

from ..handles import DatabaseHandle, SecretStoreHandle
from ..helm import from_store, kept_secrets, local_chart_release, secret_store, synced_secrets
from ..kubernetes.namespace import DefaultResources, GuardedNamespace, GuardedNamespaceProps, Peer, Port, QuotaSpec
from ..placement import SYSTEM_POOL

if TYPE_CHECKING:
    from cdktf import ITerraformDependable

ROLES_CHART = Path(__file__).resolve().parents[2] / "charts" / "database-roles"
ROLES_NAMESPACE = "airflow-db-admin"
APP_USER = "airflow_app"
"""The role Airflow logs in as (the master user is ``airflow_admin``)."""
PASSWORD_KEY = "database-password"
"""The kept secret's key (``flightdeck-prod/airflow/database-password``)."""
MASTER_SECRET = "airflow-database-master"
APP_SECRET = "airflow-database-app"
PSQL_IMAGE = "postgres:17.6-alpine3.22"
"""psql 17 (``\\getenv``); it talks to PostgreSQL 14 to 18."""
PASSWORD_GENERATOR = {"length": 48, "digits": 12, "symbols": 0, "noUpper": False, "allowRepeat": True}


@dataclass(frozen=True, kw_only=True)
class DatabaseRolesProps:
    database: DatabaseHandle
    store: SecretStoreHandle
    database_cidrs: Sequence[str]
    depends_on: Sequence[ITerraformDependable] = ()


def password_remote_key(store: SecretStoreHandle) -> str:
    if store.keeps is None:
        raise ValueError("Airflow's own database role needs a secret store that keeps generated values")
    return store.keeps.remote_key(PASSWORD_KEY)


def roles_secrets_values(props: DatabaseRolesProps) -> dict[str, Any]:
    """The roles namespace's secrets: the master user's (read) and Airflow's role password (generated once, kept)."""
    remote = password_remote_key(props.store)
    return {
        "secretStore": secret_store(props.store),
        "generators": [{"name": "database-password", "spec": PASSWORD_GENERATOR}],
        **kept_secrets(props.store, [{"name": APP_SECRET, "generator": "database-password", "remoteKey": remote}]),
        "externalSecrets": [
            from_store(MASTER_SECRET, props.database.credentials_secret, {"username": "{{ .username }}", "password": "{{ .password }}"}),
            from_store(APP_SECRET, remote, {"password": "{{ .value }}"}),
        ],
    }


def roles_values(props: DatabaseRolesProps) -> dict[str, Any]:
    database = props.database
    values: dict[str, Any] = {
        "image": PSQL_IMAGE,
        "database": {"host": database.host, "port": str(database.port), "name": database.database_name, "sslmode": database.tls},
        "appUser": APP_USER,
        "masterSecret": MASTER_SECRET,
        "appSecret": APP_SECRET,
        "nodeSelector": SYSTEM_POOL.node_selector(),
        "tolerations": SYSTEM_POOL.tolerations(),
    }
    sql = (ROLES_CHART / "files" / "roles.sql").read_text()
    # A new Job whenever what it applies changes (Jobs are immutable); the CronJob keeps it applied in between.
    values["revision"] = hashlib.sha256((sql + json.dumps(values, sort_keys=True)).encode()).hexdigest()[:10]
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

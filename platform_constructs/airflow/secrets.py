"""Values for the project's ``charts/synced-secrets`` chart: how every secret Airflow reads is made.

The External Secrets Operator produces them inside the cluster, so no password, key or token
passes through Terraform state or the synthesized JSON:

* the metadata connection, PgBouncer's config and its stats connection are rendered from the
  password of Airflow's own database role, kept in the cloud secret store (``database_roles.py``),
  or, on an existing cluster, from the owners' database secret;
* the Fernet key, the API secret key and the JWT secret are generated once in the cluster and kept
  in the cloud's secret store (a PushSecret that never overwrites or deletes), then read back from
  there: they survive a new cluster, namespace or operator. Where the store takes no writes (an
  existing cluster's owners' namespace), they are generated once in the cluster (``refreshInterval: 0``);
* dev's admin password is generated the same way; the DAG repository's credentials are synced.

The ``{{ … }}`` below are ESO templates, filled by the operator. The chart passes them through
``toYaml``, so Helm does not render them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from ..handles import DatabaseHandle, SecretStoreHandle
from ..helm import from_store, kept_secrets, secret_store
from ..workloads import AIRFLOW_RELEASE, SHARED_AIRFLOW
from .database_roles import password_remote_key
from .signin import CLIENT_SECRET_KEY
from .values import METADATA_POOL, PGBOUNCER_PORT, SecretNames


@dataclass(frozen=True, kw_only=True)
class AirflowSecretsProps:
    namespace: str
    store: SecretStoreHandle
    database: DatabaseHandle
    secrets: SecretNames = field(default_factory=SecretNames)
    git_repository: str | None = None
    git_credentials_secret: str | None = None
    """Name of the secret holding ``{"username": …, "token": …}`` for the DAG repository."""
    create_admin_password: bool = False
    sign_in_secret: str | None = None
    """The store's secret with the single sign-on client's ``{"client_secret": …}``; None: no single sign-on."""
    database_user: str = SHARED_AIRFLOW.database_user
    """The role this Airflow logs in as (``charts/database-roles`` makes it), where the store keeps its password."""


def _generated(name: str, generator: str, data: dict[str, str]) -> dict[str, Any]:
    # refreshInterval 0: generated once and then left alone, so the value survives every upgrade.
    return {"name": name, "refreshInterval": "0", "generator": generator, "template": data}


def pgbouncer_ini(database: DatabaseHandle, user: str = "{{ .username }}") -> str:
    return "\n".join(
        [
            "[databases]",
            f"{METADATA_POOL} = host={database.host} dbname={database.database_name} port={database.port} pool_size=10",
            "",
            "[pgbouncer]",
            "pool_mode = transaction",
            f"listen_port = {PGBOUNCER_PORT}",
            "listen_addr = *",
            "auth_type = scram-sha-256",
            "auth_file = /etc/pgbouncer/users.txt",
            f"stats_users = {user}",
            "ignore_startup_parameters = extra_float_digits",
            "max_client_conn = 200",
            "verbose = 0",
            "log_disconnections = 0",
            "log_connections = 0",
            # Both clouds' databases only accept TLS (rds.force_ssl, Cloud SQL's ENCRYPTED_ONLY).
            f"server_tls_sslmode = {database.tls}",
            "server_tls_ciphers = normal",
            "",
        ]
    )


def secrets_values(props: AirflowSecretsProps) -> dict[str, Any]:
    names = props.secrets
    pgbouncer_service = f"{AIRFLOW_RELEASE}-pgbouncer.{props.namespace}"
    if props.store.keeps is not None:
        # This Airflow's own role (charts/database-roles makes it): its password is kept in its folder of the store.
        source, user, secret = password_remote_key(props.store), props.database_user, "{{ .value }}"
    else:
        # An existing cluster: the owners' secret names the user Airflow connects as.
        source, user, secret = props.database.credentials_secret, "{{ .username }}", "{{ .password }}"
    password = secret.replace(" }}", " | urlquery }}")
    external = [
        from_store(
            names.metadata,
            source,
            {"connection": f"postgresql://{user}:{password}@{pgbouncer_service}:{PGBOUNCER_PORT}/{METADATA_POOL}?sslmode=disable"},
        ),
        from_store(
            names.pgbouncer_config,
            source,
            {"pgbouncer.ini": pgbouncer_ini(props.database, user), "users.txt": f'"{user}" "{secret}"'},
        ),
        from_store(
            names.pgbouncer_stats,
            source,
            {"connection": f"postgresql://{user}:{password}@127.0.0.1:{PGBOUNCER_PORT}/pgbouncer?sslmode=disable"},
        ),
    ]
    kept: list[dict[str, Any]] = []
    # A Fernet key is 32 random bytes in URL-safe base64: 43 characters from that alphabet and '='.
    for name, generator, key, suffix in (
        (names.fernet_key, "fernet-key", "fernet-key", "="),
        (names.api_secret_key, "random-secret", "api-secret-key", ""),
        (names.jwt_secret, "random-secret", "jwt-secret", ""),
    ):
        keeps = props.store.keeps
        if keeps is None:
            external.append(_generated(name, generator, {key: "{{ .password }}" + suffix}))
        else:
            # Kept in the cloud's store: a new cluster, namespace or operator reads the same key back.
            kept.append({"name": name, "generator": generator, "remoteKey": keeps.remote_key(key)})
            external.append(from_store(name, keeps.remote_key(key), {key: "{{ .value }}" + suffix}))
    if props.sign_in_secret is not None:
        external.append(from_store(names.sign_in_client, props.sign_in_secret, {CLIENT_SECRET_KEY: "{{ .client_secret }}"}))
    if props.create_admin_password:
        external.append(_generated(names.admin_password, "random-secret", {"password": "{{ .password }}"}))
    if props.git_credentials_secret is not None:
        if props.git_repository is None:
            raise ValueError("git credentials need the repository they are for")
        connection = json.dumps(
            {"conn_type": "git", "host": props.git_repository, "login": "{{ .username }}", "password": "{{ .token }}"}
        )
        external.append(from_store(names.dags_git, props.git_credentials_secret, {"connection": connection}))
    return {
        "secretStore": secret_store(props.store),
        **kept_secrets(props.store, kept),
        "generators": [
            {
                "name": "fernet-key",
                "spec": {"length": 43, "digits": 10, "symbols": 4, "symbolCharacters": "-_", "noUpper": False, "allowRepeat": True},
            },
            {
                "name": "random-secret",
                "spec": {"length": 64, "digits": 10, "symbols": 0, "noUpper": False, "allowRepeat": True},
            },
        ],
        "externalSecrets": external,
    }

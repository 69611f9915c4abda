"""The Airflow constructs on their own (``platform_constructs/airflow``): each refusal, with its whole message.

Props refuse what their construct cannot build as they are made, before any binding loads; a
refusal that needs the construct itself is reached by building it in a stack of its own. The values,
secrets, sign-in and database-role refusals are the pure functions' the constructs build from.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from platform_constructs.airflow.database_roles import DatabaseRole, DatabaseRolesProps, password_remote_key, roles_values
from platform_constructs.airflow.hibernation import HibernationProps
from platform_constructs.airflow.release import AirflowReleaseProps
from platform_constructs.airflow.secrets import AirflowSecretsProps, secrets_values
from platform_constructs.airflow.signin import SignInSpec, webserver_config
from platform_constructs.airflow.values import COMPONENTS, AirflowValuesProps, ComponentSpec, ResourceSpec, UiSpec, airflow_values
from platform_constructs.handles import (
    ClusterHandle,
    DatabaseHandle,
    IngressHandle,
    KeptSecrets,
    NetworkHandle,
    SecretStoreHandle,
    WorkloadIdentity,
)
from platform_constructs.kubernetes.namespace import QuotaSpec
from platform_constructs.workloads import SHARED_AIRFLOW, LogAccess, Workload

from .refusal import Refusals, refused_with

DATABASE = DatabaseHandle(host="db.example.internal", port=5432, database_name="airflow", username="admin", credentials_secret="s", metrics=None)
OPERATOR = Workload(name="eso", namespace="external-secrets", service_account="eso", log_access=LogAccess.NONE)
STORE = SecretStoreHandle(provider={"kubernetes": {}}, identity=WorkloadIdentity(workload=OPERATOR, principal="eso"))
"""A read-only store (an existing cluster's): it keeps nothing generated."""
KEEPING_STORE = replace(STORE, keeps=KeptSecrets(prefix="flightdeck-dev/airflow/"))
INTERNAL_ONLY = IngressHandle(
    class_name="nginx", internal_annotations={"internal": "true"}, public_annotations={}, tls_annotation=None, source_ranges_annotation=None
)
"""An ingress whose load balancer cannot limit its sources."""
LIMITS_SOURCES = replace(INTERNAL_ONLY, source_ranges_annotation="nginx.ingress.kubernetes.io/whitelist-source-range")
INTERNAL_UI = UiSpec(hostname="airflow.example.internal", certificate="airflow-tls")
PUBLIC_UI = replace(INTERNAL_UI, public=True, allowed_cidrs=("203.0.113.0/24",))
SIZE = ComponentSpec(replicas=1, resources=ResourceSpec(cpu="250m", memory="512Mi"))


def hibernation(sleep: str, wake: str) -> HibernationProps:
    return HibernationProps(namespace="airflow", image="airflow:3", sleep=sleep, wake=wake, pod_labels={"app": "hibernation"})


def role(user: str, database: str) -> DatabaseRole:
    return DatabaseRole(user=user, database=database, password_key=f"{user}/password", secret=f"{user}-password")


def roles(*each: DatabaseRole) -> DatabaseRolesProps:
    return DatabaseRolesProps(database=DATABASE, store=KEEPING_STORE, roles=each, database_cidrs=["10.0.8.0/24"])


def values(**changes: Any) -> AirflowValuesProps:
    """The shared Airflow of a small environment, with ``changes``."""
    props = AirflowValuesProps(
        namespace="airflow",
        executor="KubernetesExecutor",
        image_repository="apache/airflow",
        image_tag="3.2.2",
        airflow_version=None,
        components={key: SIZE for key in (*COMPONENTS, "pgbouncer")},
        task_resources=ResourceSpec(cpu="500m", memory="1Gi"),
        identities={w.name: WorkloadIdentity(workload=w, principal=f"airflow-{w.name}") for w in SHARED_AIRFLOW.workloads},
        database=DATABASE,
        log_store=None,
        ingress=INTERNAL_ONLY,
        ui=INTERNAL_UI,
    )
    return replace(props, **changes)


def airflow_secrets(**changes: Any) -> AirflowSecretsProps:
    return replace(AirflowSecretsProps(namespace="airflow", store=KEEPING_STORE, database=DATABASE), **changes)


def release(*task_namespaces: str) -> AirflowReleaseProps:
    return AirflowReleaseProps(
        cluster=ClusterHandle(name="flightdeck-dev", node_pools=()),
        network=NetworkHandle(vpc_cidr="10.0.0.0/16", database_cidrs=("10.0.8.0/24",)),
        values=values(),
        secrets=airflow_secrets(),
        quota=QuotaSpec(cpu="8", memory="16Gi", pods=50),
        task_namespaces=task_namespaces,
        launchers=(),
    )


REFUSED: Refusals = {
    "hibernation sleeping and waking at once": (
        lambda: hibernation("0 20 * * 1-5", "0 20 * * 1-5"),
        "hibernation sleeps and wakes at the same time (0 20 * * 1-5)",
    ),
    "two Airflows sharing a database role": (
        lambda: roles_values(roles(role("airflow_app", "airflow"), role("airflow_app", "airflow_analytics"))),
        "database roles ['airflow_app', 'airflow_app'] share a name or a database; each Airflow has its own",
    ),
    "two Airflows sharing a database": (
        lambda: roles_values(roles(role("airflow_app", "airflow"), role("airflow_analytics", "airflow"))),
        "database roles ['airflow_app', 'airflow_analytics'] share a name or a database; each Airflow has its own",
    ),
    "a role password without a store that keeps it": (
        lambda: password_remote_key(STORE),
        "Airflow's own database role needs a secret store that keeps generated values",
    ),
    "Airflow's own namespace listed as a task namespace": (
        lambda: release("airflow-tasks", "airflow"),
        "task namespace 'airflow' is Airflow's own namespace; list only extra namespaces",
    ),
    "git credentials without their repository": (
        lambda: secrets_values(airflow_secrets(git_credentials_secret="flightdeck-dev/dags-git")),
        "git credentials need the repository they are for",
    ),
    "sign-in with Okta without its issuer": (
        lambda: webserver_config(SignInSpec(provider="okta", client_id="airflow")),
        "sign-in with okta needs its issuer",
    ),
    "sign-in with an OIDC issuer not named": (
        lambda: webserver_config(SignInSpec(provider="oidc", client_id="airflow")),
        "sign-in with oidc needs its issuer",
    ),
    "sign-in with Entra ID without its tenant": (
        lambda: webserver_config(SignInSpec(provider="entra", client_id="airflow")),
        "sign-in with Microsoft Entra ID needs its tenant",
    ),
    "a sign-in the chart would template": (
        lambda: webserver_config(SignInSpec(provider="github", client_id="airflow", groups={"{{ .Values.admins }}": "Admin"})),
        "the chart templates apiServerConfig: the sign-in configuration must not contain '{{' or '}}'",
    ),
    "an override of configuration Flightdeck sets": (
        lambda: airflow_values(values(config_overrides={"core": {"executor": "CeleryExecutor"}})),
        "airflow.config.core.executor is set by Flightdeck and cannot be overridden",
    ),
    "a public UI behind a load balancer that cannot limit its sources": (
        lambda: airflow_values(values(ui=PUBLIC_UI)),
        "this cloud's load balancer cannot limit its sources; the UI must stay internal",
    ),
    "an Airflow component without its sizing": (
        lambda: airflow_values(values(components={key: SIZE for key in COMPONENTS})),
        "no sizing for Airflow components ['pgbouncer']",
    ),
}


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_airflow_constructs_refuse_what_they_cannot_build(case: str) -> None:
    make, message = REFUSED[case]
    assert refused_with(make) == message


def test_props_within_their_limits_are_accepted() -> None:
    hibernation("0 20 * * 1-5", "0 7 * * 1-5")
    assert [r["user"] for r in roles_values(roles(role("airflow_app", "airflow"), role("airflow_analytics", "airflow_analytics")))["roles"]] == [
        "airflow_app",
        "airflow_analytics",
    ]
    assert password_remote_key(KEEPING_STORE) == "flightdeck-dev/airflow/database-password"
    release("airflow-tasks")
    synced = secrets_values(airflow_secrets(git_repository="https://github.com/example/dags.git", git_credentials_secret="flightdeck-dev/dags-git"))
    assert "airflow-dags-git" in [secret["name"] for secret in synced["externalSecrets"]]
    webserver_config(SignInSpec(provider="okta", client_id="airflow", issuer="https://example.okta.com/oauth2/default"))
    webserver_config(SignInSpec(provider="oidc", client_id="airflow", issuer="https://id.example.com"))
    webserver_config(SignInSpec(provider="entra", client_id="airflow", tenant_id="5e5e5e5e-5555-4555-8555-555555555555"))
    webserver_config(SignInSpec(provider="github", client_id="airflow", groups={"admins": "Admin"}))
    chart = airflow_values(values(config_overrides={"core": {"parallelism": "64"}}, ingress=LIMITS_SOURCES, ui=PUBLIC_UI))
    assert chart["config"]["core"]["parallelism"] == "64"
    assert chart["ingress"]["apiServer"]["annotations"][LIMITS_SOURCES.source_ranges_annotation] == "203.0.113.0/24"

"""``charts/database-roles`` run for real: its container's command and environment against PostgreSQL.

A throwaway PostgreSQL server on 127.0.0.1 (the machine's own binaries, no network) stands in for
the managed instance: its master user is, as on RDS and Cloud SQL, not a superuser but may create
databases and roles, and owns the database an earlier Airflow migrated as it. The roles chart is
rendered offline for the shared Airflow and a team's own, and each container's ``command`` runs with
the environment the chart gives it (the secrets it names filled in). Then every promise is checked
by logging in: each Airflow's role owns its database and nothing else, cannot reach the other's,
is no superuser; a second run changes nothing but the password.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from platform_constructs.airflow.database_roles import MASTER_SECRET, ROLES_CHART, DatabaseRole, roles_values
from platform_constructs.workloads import SHARED_AIRFLOW, AirflowInstance

from .conftest import render_chart

MASTER = ("airflow_admin", "master-password-1")


def _binary(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"))
    return str(candidates[-1]) if candidates else None


@pytest.fixture(scope="module")
def server() -> Iterator[dict[str, str]]:
    initdb, postgres, psql = _binary("initdb"), _binary("postgres"), _binary("psql")
    if not (initdb and postgres and psql):
        pytest.skip("needs PostgreSQL's initdb, postgres and psql (Debian: apt-get install postgresql)")
    root = Path(tempfile.mkdtemp(prefix="flightdeck-pg-", dir="/tmp"))
    data = root / "data"
    # PostgreSQL refuses to run as root: as root, run it as the postgres account.
    as_user: list[str] = []
    if os.geteuid() == 0:
        as_user = ["runuser", "-u", "postgres", "--"]
        shutil.chown(root, "postgres")
        root.chmod(0o755)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = str(probe.getsockname()[1])
    subprocess.run([*as_user, initdb, "-D", str(data), "-U", "postgres", "--auth-local=trust", "--auth-host=scram-sha-256"],
                   check=True, capture_output=True)  # fmt: skip
    process = subprocess.Popen(
        [*as_user, postgres, "-D", str(data), "-k", str(root), "-h", "127.0.0.1", "-p", port],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(100):
            if subprocess.run([psql, "-h", str(root), "-p", port, "-U", "postgres", "-c", "select 1"], capture_output=True).returncode == 0:
                break
            time.sleep(0.1)
        else:
            pytest.fail("PostgreSQL did not start")
        socket_env = {"host": str(root), "port": port, "psql": psql}
        # The managed instance: a master user that may create databases and roles, no superuser, owning
        # Airflow's database with tables an earlier Airflow migrated as it.
        superuser(socket_env, f"CREATE ROLE {MASTER[0]} LOGIN CREATEDB CREATEROLE PASSWORD '{MASTER[1]}'")
        superuser(socket_env, f"CREATE DATABASE airflow OWNER {MASTER[0]}")
        login(socket_env, *MASTER, "airflow", "CREATE TABLE dag (dag_id text); CREATE TYPE state AS ENUM ('queued', 'running')")
        superuser(socket_env, "CREATE ROLE someone LOGIN PASSWORD 'someone-password'")
        yield socket_env
    finally:
        process.terminate()
        process.wait(timeout=30)
        shutil.rmtree(root, ignore_errors=True)


def superuser(server: dict[str, str], sql: str) -> None:
    subprocess.run([server["psql"], "-h", server["host"], "-p", server["port"], "-U", "postgres", "-v", "ON_ERROR_STOP=1", "-c", sql],
                   check=True, capture_output=True)  # fmt: skip


def login(server: dict[str, str], user: str, password: str, database: str, sql: str) -> subprocess.CompletedProcess[str]:
    """``sql`` as ``user`` over TCP with a password, as Airflow (through PgBouncer) logs in."""
    env = {"PATH": os.environ["PATH"], "PGPASSWORD": password, "PGCONNECT_TIMEOUT": "5"}
    command = [server["psql"], "-h", "127.0.0.1", "-p", server["port"], "-U", user, "-d", database, "-v", "ON_ERROR_STOP=1"]
    return subprocess.run([*command, "-Atc", sql], env=env, capture_output=True, text=True)


def role(instance: AirflowInstance) -> DatabaseRole:
    secret = "airflow-database-app" if instance.team is None else f"airflow-database-app-{instance.team}"
    return DatabaseRole(user=instance.database_user, database=instance.database_name("airflow"), password_key="unused", secret=secret)


def run_roles_job(server: dict[str, str], roles: list[DatabaseRole], passwords: dict[str, str]) -> None:
    """Render the chart and run each container of its Job as the kubelet would, secrets filled in."""
    from platform_constructs.airflow.database_roles import DatabaseRolesProps
    from platform_constructs.handles import DatabaseHandle, SecretStoreHandle, WorkloadIdentity
    from platform_constructs.workloads import EXTERNAL_SECRETS

    props = DatabaseRolesProps(
        database=DatabaseHandle(
            host="127.0.0.1",
            port=int(server["port"]),
            database_name="airflow",
            username=MASTER[0],
            credentials_secret="unused",
            metrics=None,
            tls="disable",
        ),
        store=SecretStoreHandle(provider={}, identity=WorkloadIdentity(workload=EXTERNAL_SECRETS, principal="unused")),
        roles=roles,
        database_cidrs=("127.0.0.1/32",),
    )
    documents = render_chart(ROLES_CHART, roles_values(props), name="database-roles", namespace="airflow-db-admin")
    (job,) = [d for d in documents if d["kind"] == "Job"]
    (configmap,) = [d for d in documents if d["kind"] == "ConfigMap"]
    sql_dir = Path(tempfile.mkdtemp(prefix="flightdeck-sql-"))
    (sql_dir / "roles.sql").write_text(configmap["data"]["roles.sql"])
    secrets: dict[str, dict[str, str]] = {MASTER_SECRET: {"username": MASTER[0], "password": MASTER[1]}}
    secrets |= {r.secret: {"password": passwords[r.user]} for r in roles}
    for container in job["spec"]["template"]["spec"]["containers"]:
        env = {"PATH": os.environ["PATH"]}
        for variable in container["env"]:
            ref = variable.get("valueFrom", {}).get("secretKeyRef")
            env[variable["name"]] = secrets[ref["name"]][ref["key"]] if ref else variable["value"]
        command = [server["psql"] if part == "psql" else part.replace("/sql/", f"{sql_dir}/") for part in container["command"]]
        result = subprocess.run(command, env=env, capture_output=True, text=True)
        assert result.returncode == 0, result.stderr
    shutil.rmtree(sql_dir)


@pytest.fixture(scope="module")
def applied(server: dict[str, str]) -> dict[str, Any]:
    shared, team = role(SHARED_AIRFLOW), role(AirflowInstance("analytics"))
    passwords = {shared.user: "shared-password-1", team.user: "team-password-1"}
    run_roles_job(server, [shared, team], passwords)
    return {"server": server, "shared": shared, "team": team, "passwords": passwords}


def test_each_airflow_logs_in_to_its_own_database_and_owns_it(applied: dict[str, Any]) -> None:
    server, passwords = applied["server"], applied["passwords"]
    for r in (applied["shared"], applied["team"]):

        def query(sql: str, r: DatabaseRole = r) -> subprocess.CompletedProcess[str]:
            return login(server, r.user, passwords[r.user], r.database, sql)

        result = query("CREATE TABLE migrated (id int); SELECT current_user")
        assert result.returncode == 0 and result.stdout.strip().endswith(r.user), result.stderr
        assert query(f"SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = '{r.database}'").stdout.strip() == r.user
        flags = query(f"SELECT rolsuper, rolcreatedb, rolcreaterole FROM pg_roles WHERE rolname = '{r.user}'")
        assert flags.stdout.strip() == "f|f|f", "no superuser, no new databases, no new roles"


def test_what_the_master_user_made_is_handed_to_the_shared_airflows_role(applied: dict[str, Any]) -> None:
    shared = applied["shared"]
    sql = "SELECT tableowner FROM pg_tables WHERE tablename = 'dag'; SELECT pg_get_userbyid(typowner) FROM pg_type WHERE typname = 'state'"
    result = login(applied["server"], shared.user, applied["passwords"][shared.user], shared.database, sql)
    assert result.stdout.split() == [shared.user, shared.user], result.stderr


def test_no_airflow_reaches_another_airflows_database_nor_does_anyone_else(applied: dict[str, Any]) -> None:
    server, passwords, shared, team = applied["server"], applied["passwords"], applied["shared"], applied["team"]
    for who, where in ((shared, team.database), (team, shared.database)):
        result = login(server, who.user, passwords[who.user], where, "SELECT 1")
        assert result.returncode != 0 and "permission denied for database" in result.stderr, (who.user, where, result.stderr)
    for database in (shared.database, team.database):
        result = login(server, "someone", "someone-password", database, "SELECT 1")
        assert result.returncode != 0 and "permission denied for database" in result.stderr


def test_running_again_changes_only_the_password(applied: dict[str, Any]) -> None:
    server, shared, team = applied["server"], applied["shared"], applied["team"]
    rotated = {shared.user: "shared-password-2", team.user: "team-password-2"}
    run_roles_job(server, [shared, team], rotated)
    old = login(server, shared.user, applied["passwords"][shared.user], shared.database, "SELECT 1")
    assert old.returncode != 0 and "password authentication failed" in old.stderr
    for r in (shared, team):
        result = login(server, r.user, rotated[r.user], r.database, "SELECT count(*) FROM migrated")
        assert result.returncode == 0 and result.stdout.strip() == "0", "the data stays"
    applied["passwords"].update(rotated)

"""A team's own Airflow (``teams[].airflow: dedicated``): a boundary the shared Airflow is not.

Checked on the fixture environments (AWS prod and GKE prod give ``analytics`` its own Airflow), on
the synthesized stacks and the project's charts rendered offline: the team's Airflow has its own
namespace, release, DAG bundle, database and role, identities, log folder, kept keys, UI, pools and
metric tags; its tasks run only in its namespaces under its identities; and no other Airflow's
accounts may start pods there, nor its accounts anywhere else.
"""

from __future__ import annotations

import json
import re
import uuid
from pathlib import Path
from typing import Any

import pytest
import yaml

from flightdeck.config import EnvironmentConfig, Team
from platform_constructs.airflow.values import DATABASE_COMPONENTS, PGBOUNCER_PORT, TASK_COMPONENT
from platform_constructs.workloads import AIRFLOW_COMPONENT_NAMES, AIRFLOW_RELEASE, SHARED_AIRFLOW, AirflowInstance

from .conftest import fixture_configs, releases, resources, run_main, values_of
from .test_airflow_trust import reaches
from .test_placement import policies

AIRFLOW_LAUNCHERS = {"airflow-scheduler", "airflow-worker", "airflow-triggerer"}


def dedicated(config: EnvironmentConfig) -> list[Team]:
    return config.dedicated_teams


@pytest.fixture(scope="module")
def with_dedicated(stacks: dict[str, Any], gke_stacks: dict[str, Any]) -> list[tuple[EnvironmentConfig, dict[str, Any]]]:
    """Every fixture environment with a team's own Airflow, on each cloud, with its composed stacks."""
    from .conftest import GKE_EXAMPLES, configs_in

    found = [(fixture_configs()[env], stack) for env, stack in stacks.items() if fixture_configs()[env].dedicated_teams]
    gke = configs_in(GKE_EXAMPLES)
    found += [(gke[env], stack) for env, stack in gke_stacks.items() if gke[env].dedicated_teams]
    assert {config.cloud for config, _ in found} == {"aws", "gcp"}, "the fixtures give a team its own Airflow on both clouds"
    return found


def test_a_dedicated_team_gets_its_own_release_dag_bundle_ui_and_log_folder(with_dedicated: list[Any]) -> None:
    for config, stack in with_dedicated:
        shared = values_of(stack, namespace="airflow")
        for team in dedicated(config):
            assert team.airflow.dags and team.airflow.dags.git and team.airflow.ui
            instance = AirflowInstance(team.name)
            release = releases(stack, instance.namespace)[AIRFLOW_RELEASE]
            assert release["namespace"] == team.airflow_namespace == instance.namespace
            values = values_of(stack, namespace=instance.namespace)
            (bundle,) = values["dagProcessor"]["dagBundleConfigList"]
            assert bundle["kwargs"]["tracking_ref"] == team.airflow.dags.git.ref
            assert bundle["kwargs"]["repo_url"] == team.airflow.dags.git.repository
            assert team.airflow.dags.git.repository in json.dumps(values["env"])
            assert config.airflow.dags.git is None or config.airflow.dags.git.repository not in json.dumps(values["env"])
            hosts = [h["name"] for h in values["ingress"]["apiServer"]["hosts"]]
            assert hosts == [team.airflow.ui.hostname] != [h["name"] for h in shared["ingress"]["apiServer"]["hosts"]]
            assert values["config"]["api"]["base_url"] == f"https://{team.airflow.ui.hostname}"
            folder = values["config"]["logging"]["remote_base_log_folder"]
            assert folder.endswith(f"/{instance.folder}") and folder != shared["config"]["logging"]["remote_base_log_folder"]
            # The same sizes, executor, image and sign-in as the environment's Airflow: tiers differ in size only.
            assert (values["executor"], values["images"]) == (shared["executor"], shared["images"])
            for section in ("scheduler", "apiServer", "triggerer", "dagProcessor", "pgbouncer"):
                assert (values[section]["replicas"], values[section]["resources"]) == (shared[section]["replicas"], shared[section]["resources"])
            assert values["apiServer"]["apiServerConfig"] == shared["apiServer"]["apiServerConfig"]
            # Pools: the team's own and the backfill pool; the shared Airflow has no pool of that team.
            pools = pool_names(stack, instance.namespace)
            assert pools == {"backfill", f"team-{team.name}"}
            assert f"team-{team.name}" not in pool_names(stack, SHARED_AIRFLOW.namespace)
        assert stack["output"]["team_airflow_urls"]["value"] == {
            t.name: f"https://{t.airflow.ui.hostname}" for t in dedicated(config) if t.airflow.ui
        }


def pool_names(stack: dict[str, Any], namespace: str) -> set[str]:
    (job,) = [j for j in resources(stack, "kubernetes_job_v1").values() if j["metadata"]["namespace"] == namespace]
    script = job["spec"]["template"]["spec"]["container"][0]["args"][-1]
    return set(re.findall(r"airflow pools set (\S+)", script))


def test_its_database_and_role_are_its_own_and_it_never_logs_in_as_the_master_user(with_dedicated: list[Any]) -> None:
    for config, stack in with_dedicated:
        roles = values_of(stack, "database-roles")["roles"]
        assert len({r["user"] for r in roles}) == len({r["database"] for r in roles}) == len(roles) == 1 + len(dedicated(config))
        for team in dedicated(config):
            instance = AirflowInstance(team.name)
            mine = [r for r in roles if r["user"] == instance.database_user]
            assert [r["database"] for r in mine] == [instance.database_name("airflow")]
            synced = {e["name"]: e for e in values_of(stack, "airflow-secrets", instance.namespace)["externalSecrets"]}
            connection = synced["airflow-metadata"]["template"]["connection"]
            assert connection.startswith(f"postgresql://{instance.database_user}:")
            assert f"@airflow-pgbouncer.{instance.namespace}:" in connection
            ini = synced["airflow-pgbouncer-config"]["template"]["pgbouncer.ini"]
            assert f"dbname={instance.database_name('airflow')} " in ini
            # Its role's password is kept in its own folder of the store, beside its own keys.
            admin = {e["name"]: e["remoteKey"] for e in values_of(stack, "airflow-db-admin-secrets")["externalSecrets"]}
            assert synced["airflow-metadata"]["remoteKey"] == admin[f"airflow-database-app-{team.name}"]
            kept = values_of(stack, "airflow-secrets", instance.namespace)["keptSecrets"]
            shared_kept = values_of(stack, "airflow-secrets", SHARED_AIRFLOW.namespace)["keptSecrets"]
            assert {k["name"] for k in kept} == {k["name"] for k in shared_kept}
            assert not {k["remoteKey"] for k in kept} & {k["remoteKey"] for k in shared_kept}
            assert all(instance.folder in k["remoteKey"] for k in kept)


def test_the_roles_job_creates_the_teams_database_and_closes_it_to_everyone_else() -> None:
    from platform_constructs.airflow.database_roles import ROLES_CHART

    sql = (ROLES_CHART / "files" / "roles.sql").read_text()
    lines = [line for line in sql.splitlines() if not line.startswith("--")]
    create, revoke, connect = (next(i for i, line in enumerate(lines) if needle in line) for needle in (
        "CREATE DATABASE", "REVOKE ALL ON DATABASE", "\\connect :database",
    ))  # fmt: skip
    assert create < revoke < connect, "made, closed to PUBLIC, then entered to hand its schema over"
    assert "WHERE NOT EXISTS (SELECT 1 FROM pg_database" in sql, "idempotent"
    assert "\\getenv database APP_DATABASE" in sql


def test_its_components_have_their_own_identities_reaching_only_its_log_folder(with_dedicated: list[Any]) -> None:
    for config, stack in with_dedicated:
        for team in dedicated(config):
            instance = AirflowInstance(team.name)
            bound = bindings(stack, config)
            for component in AIRFLOW_COMPONENT_NAMES:
                ours = bound[(instance.namespace, f"{AIRFLOW_RELEASE}-{component}")]
                shared = bound[(SHARED_AIRFLOW.namespace, f"{AIRFLOW_RELEASE}-{component}")]
                assert ours != shared, component
            if config.cloud == "aws":
                for role_id, prefixes in log_prefixes(stack).items():
                    if f"-{team.name}-" in role_id:
                        assert prefixes == {f"{instance.folder}/*"}, role_id
                    else:
                        assert f"{instance.folder}/*" not in prefixes, role_id
            else:
                for grant in resources(stack, "google_storage_bucket_iam_member").values():
                    condition = (grant.get("condition") or {}).get("expression", "")
                    if f"objects/{instance.folder}/" in condition:
                        assert team.name in grant["//"]["metadata"]["path"], "only its own service accounts reach its folder"


def bindings(stack: dict[str, Any], config: EnvironmentConfig) -> dict[tuple[str, str], str]:
    """(namespace, service account) → the cloud identity it acts as (role ARN reference, GSA email reference)."""
    if config.cloud == "aws":
        return {
            (a["namespace"], a["service_account"]): a["role_arn"]
            for a in resources(stack, "aws_eks_pod_identity_association").values()
        }
    found = {}
    for member in resources(stack, "google_service_account_iam_member").values():
        match = re.search(r"\[(.+)/(.+)\]$", member["member"])
        if match and member["role"] == "roles/iam.workloadIdentityUser":
            found[(match.group(1), match.group(2))] = member["service_account_id"]
    return found


def log_prefixes(stack: dict[str, Any]) -> dict[str, set[str]]:
    """Each Airflow role's task-log policy: the object prefixes it names in the log bucket."""
    found: dict[str, set[str]] = {}
    for policy_id, policy in resources(stack, "aws_iam_role_policy").items():
        if policy["name"] != "task-logs":
            continue
        for statement in json.loads(policy["policy"])["Statement"]:
            for prefix in statement.get("Condition", {}).get("StringLike", {}).get("s3:prefix", []):
                found.setdefault(policy_id, set()).add(prefix)
    return found


def test_only_its_own_airflow_launches_pods_in_the_teams_namespace(with_dedicated: list[Any]) -> None:
    """RBAC, the only way a pod gets created: every grant to create pods names one Airflow's accounts,
    and a team's namespace is granted to the Airflow that runs its DAGs and to no other."""
    for config, stack in with_dedicated:
        launchers = pod_launchers(stack)
        for team in config.teams:
            runs = team.airflow_namespace if team.airflow.dedicated else SHARED_AIRFLOW.namespace
            assert launchers[team.namespace] == {(runs, sa) for sa in AIRFLOW_LAUNCHERS}, team.name
        for team in dedicated(config):
            where = {ns for ns, accounts in launchers.items() if any(owner == team.airflow_namespace for owner, _ in accounts)}
            assert where == {team.namespace}, f"{team.name}'s Airflow launches into {sorted(where)}"
            # Its own namespace's task pods are admitted by its own rule, for its own launchers only.
            rule = policies(stack)[f"{team.airflow_namespace}-task-pods"]["spec"]["rules"][0]
            assert rule["match"]["any"][0]["resources"]["namespaces"] == [team.airflow_namespace]
            assert {(s["namespace"], s["name"]) for s in rule["match"]["any"][0]["subjects"]} == {
                (team.airflow_namespace, sa) for sa in AIRFLOW_LAUNCHERS
            }
            assert rule["validate"]["pattern"]["metadata"]["labels"]["component"] == TASK_COMPONENT


def pod_launchers(stack: dict[str, Any]) -> dict[str, set[tuple[str, str]]]:
    """Per namespace, the service accounts some Role lets create pods there (Flightdeck's RoleBindings)."""
    roles = {
        (r["metadata"]["namespace"], r["metadata"]["name"])
        for r in resources(stack, "kubernetes_role_v1").values()
        if any("pods" in rule["resources"] and "create" in rule["verbs"] for rule in r["rule"])
    }
    found: dict[str, set[tuple[str, str]]] = {}
    for binding in resources(stack, "kubernetes_role_binding_v1").values():
        namespace = binding["metadata"]["namespace"]
        if (namespace, binding["role_ref"]["name"]) in roles or "${" in binding["role_ref"]["name"]:
            found.setdefault(namespace, set()).update((s["namespace"], s["name"]) for s in binding["subject"])
    assert not resources(stack, "kubernetes_cluster_role_binding_v1"), "no cluster-wide grant to any Airflow"
    return found


def test_its_namespace_lets_exactly_the_database_components_reach_its_pgbouncer(with_dedicated: list[Any]) -> None:
    for config, stack in with_dedicated:
        celery = "CeleryExecutor" in config.airflow.executor
        users = {*DATABASE_COMPONENTS, "pools", *({"worker"} if celery else set())}
        pgbouncer = {"tier": "airflow", "component": "pgbouncer", "release": AIRFLOW_RELEASE}
        for team in dedicated(config):
            for name in {*users, TASK_COMPONENT, "worker"}:
                pod = {"tier": "airflow", "component": name, "release": AIRFLOW_RELEASE}
                assert reaches(stack, team.airflow_namespace, pod, pgbouncer, PGBOUNCER_PORT) == (name in users), name


def test_its_metrics_carry_its_name_and_keep_the_integrations_metric_names(with_dedicated: list[Any]) -> None:
    from platform_constructs.datadog.mapper import mapped_names

    for config, stack in with_dedicated:
        if config.datadog is None:
            continue
        env = {e["name"]: e["value"] for e in values_of(stack, "datadog")["datadog"]["env"]}
        profiles = {p["prefix"]: p for p in json.loads(env["DD_DOGSTATSD_MAPPER_PROFILES"])}
        for team in dedicated(config):
            prefix = values_of(stack, namespace=team.airflow_namespace)["config"]["metrics"]["statsd_prefix"]
            profile = profiles[f"{prefix}."]
            assert all(rule["tags"]["airflow_instance"] == team.name for rule in profile["mappings"])
            assert {rule["name"] for rule in profile["mappings"]} == mapped_names() | {"airflow.$1"}
            assert all(rule["match"].startswith((f"{prefix}.", f"{prefix}\\.")) for rule in profile["mappings"])
        assert values_of(stack)["config"]["metrics"]["statsd_prefix"] == "airflow"
        assert all(rule["tags"]["airflow_instance"] == "shared" for rule in profiles["airflow."]["mappings"])
        # Each Airflow alerts on its own: the Airflow monitors group by the instance tag.
        for name, monitor in resources(stack, "datadog_monitor").items():
            if "airflow." in monitor["query"]:
                assert "by {airflow_instance}" in monitor["query"], name


# Refused: a dedicated Airflow without what makes it one, or that would collide with another.


def _edit(path: Path, change: Any) -> None:
    data = yaml.safe_load(path.read_text())
    change(data)
    path.write_text(yaml.safe_dump(data, sort_keys=False))


def _dedicate(**extra: Any) -> dict[str, Any]:
    return {
        "mode": "dedicated",
        "dags": {"source": "git", "git": {"repository": "https://github.com/example-org/science-dags.git"}},
        "ui": {"hostname": "science.airflow.fixture.internal"},
        **extra,
    }


REFUSED = {
    "no-dags": ({"mode": "dedicated", "ui": {"hostname": "s.fixture.internal"}}, "teams[0].airflow", "its own DAG bundle"),
    "no-ui": ({"mode": "dedicated", "dags": _dedicate()["dags"]}, "teams[0].airflow", "its own UI"),
    "shorthand": ("dedicated", "teams[0].airflow", "its own DAG bundle"),
    "shared-with-settings": ({"mode": "shared", "ui": {"hostname": "s.fixture.internal"}}, "teams[0].airflow", "mode is shared"),
    "same-hostname": (_dedicate(ui={"hostname": "HOSTNAME"}), "teams[0].airflow.ui.hostname", "already airflow.ui.hostname"),
    "foreign-certificate": (
        _dedicate(ui={"hostname": "s.fixture.internal", "certificate": f"arn:aws:acm:us-east-1:999999999999:certificate/{uuid.UUID(int=1)}"}),
        "teams[0].airflow.ui.certificate",
        "in account 999999999999",
    ),
}


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_a_dedicated_airflow_without_its_parts_is_refused(case: str, tmp_path: Path) -> None:
    from .test_refusals import FIXTURES

    value, field, message = REFUSED[case]
    folder = tmp_path / "environments"
    folder.mkdir()
    target = folder / "live.yaml"
    target.write_text((FIXTURES / "live.yaml").read_text())

    def change(data: dict[str, Any]) -> None:
        chosen = json.loads(json.dumps(value).replace("HOSTNAME", data["airflow"]["ui"]["hostname"]))
        data["teams"][0]["airflow"] = chosen

    _edit(target, change)
    result = run_main(tmp_path / "out", folder)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert "live.yaml" in result.stderr and field in result.stderr and message in result.stderr, result.stderr


@pytest.mark.parametrize(
    ("name", "message"),
    [("db-admin", "'airflow-db-admin'"), ("connections", "where Connections and Variables are kept")],
)
def test_a_team_whose_airflow_would_collide_is_refused(name: str, message: str, tmp_path: Path) -> None:
    from .test_refusals import FIXTURES

    folder = tmp_path / "environments"
    folder.mkdir()
    target = folder / "live.yaml"
    target.write_text((FIXTURES / "live.yaml").read_text())

    def change(data: dict[str, Any]) -> None:
        data["teams"][0]["name"] = name
        data["teams"][0]["airflow"] = _dedicate()

    _edit(target, change)
    result = run_main(tmp_path / "out", folder)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "teams[0].airflow" in result.stderr and message in result.stderr and "rename the team" in result.stderr, result.stderr


def test_an_existing_cluster_refuses_a_dedicated_airflow_and_says_what_to_do_instead(tmp_path: Path) -> None:
    from .test_refusals import FIXTURES

    folder = tmp_path / "environments"
    folder.mkdir()
    target = folder / "onprem.yaml"
    target.write_text((FIXTURES / "onprem.yaml").read_text())

    def change(data: dict[str, Any]) -> None:
        data.setdefault("teams", [{"name": "science", "cost_center": "CC-5001", "quota": {"cpu": "8", "memory": "32Gi", "pods": 50}}])
        data["teams"][0]["airflow"] = _dedicate()

    _edit(target, change)
    result = run_main(tmp_path / "out", folder)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "teams[0].airflow is dedicated" in result.stderr and "environment of its own" in result.stderr, result.stderr


def test_the_cloud_hands_each_airflow_its_own_view() -> None:
    """``CloudPlatform.for_airflow``: the shared Airflow sees the platform as it is, a team's own its parts."""
    from dataclasses import replace

    from platform_constructs.handles import (
        CloudPlatform,
        ClusterHandle,
        DedicatedAirflow,
        KeptSecrets,
        LogStore,
        NetworkHandle,
        SecretStoreHandle,
        WorkloadIdentity,
    )

    from .test_airflow import sample_props

    props = sample_props()
    platform = CloudPlatform(
        cluster=ClusterHandle(name="c", node_pools=()),
        identities=props.identities,
        database=props.database,
        log_store=props.log_store,
        image_repository=None,
        network=NetworkHandle(vpc_cidr="10.0.0.0/16", database_cidrs=("10.0.1.0/24",)),
        secret_store=SecretStoreHandle(provider={"aws": {}}, identity=props.identities["worker"], keeps=KeptSecrets(prefix="p/airflow/")),
        ingress=props.ingress,
    )
    instance = AirflowInstance("science")
    identities = {w.name: WorkloadIdentity(workload=w, principal=f"role/{w.name}") for w in instance.workloads}
    logs = LogStore(bucket="b", remote_base_log_folder="s3://b/airflow", connection_id="aws_logs", connection_uri=None)
    own = DedicatedAirflow.of(instance, identities, logs.in_folder(instance.folder), KeptSecrets(prefix="p/airflow-science/"))
    platform = replace(platform, dedicated_airflows={"science": own})
    assert platform.for_airflow(SHARED_AIRFLOW) is platform
    seen = platform.for_airflow(instance)
    assert seen.identities["scheduler"].principal == "role/science-scheduler"
    assert seen.identities["scheduler"].workload.namespace == "airflow-science"
    assert seen.database.database_name == "airflow_science" and seen.database.host == platform.database.host
    assert seen.log_store is not None and seen.log_store.remote_base_log_folder == "s3://b/airflow-science"
    assert seen.secret_store.keeps == KeptSecrets(prefix="p/airflow-science/")
    with pytest.raises(ValueError, match="nothing for team other"):
        platform.for_airflow(AirflowInstance("other"))

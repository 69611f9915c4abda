"""Airflow's own trust boundaries: what a task (a DAG author's code) can reach of the platform.

Airflow 3's tasks reach the metadata only through the API server's Execution API. So a task pod
gets neither the metadata connection nor the Fernet key; the network policies let exactly the
components that use the database reach PgBouncer; and the admission policy keeps a DAG's pod
override from mounting those secrets or dressing up as a component. Checked on the synthesized
values, the synthesized network policies and the project's policy chart rendered offline, with
the policy's JMESPath evaluated by the ``jmespath`` library as Kyverno would.
"""

from __future__ import annotations

import copy
import json
import re
from typing import Any

import jmespath  # type: ignore[import-untyped]
import yaml

from platform_constructs.airflow.values import DATABASE_COMPONENTS, PGBOUNCER_PORT, TASK_COMPONENT, SecretNames
from platform_constructs.kubernetes.tenancy import POLICIES_CHART
from platform_constructs.workloads import AIRFLOW_NAMESPACE, AIRFLOW_RELEASE, SHARED_AIRFLOW, AirflowInstance

from .conftest import fixture_configs, parse_yaml, releases, render_chart, resources, values_of
from .test_placement import policies, task_template

PLATFORM_SECRETS = {
    SecretNames().metadata, SecretNames().fernet_key, SecretNames().api_secret_key, SecretNames().jwt_secret,
    SecretNames().pgbouncer_config, SecretNames().pgbouncer_stats, SecretNames().admin_password,
}  # fmt: skip
"""Secrets no task may read: the metadata connection, PgBouncer's, the Fernet, API and JWT keys, the admin password."""
PLATFORM_VARIABLES = {"AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", "AIRFLOW__CORE__FERNET_KEY", "AIRFLOW_CONN_AIRFLOW_DB", "AIRFLOW__API_AUTH__JWT_SECRET"}


def secrets_read(pod_spec: dict[str, Any]) -> set[str]:
    names = {v["secret"]["secretName"] for v in pod_spec.get("volumes", []) if "secret" in v}
    for container in pod_spec.get("containers", []) + pod_spec.get("initContainers", []):
        names |= {e["valueFrom"]["secretKeyRef"]["name"] for e in container.get("env", []) if "secretKeyRef" in e.get("valueFrom", {})}
        names |= {e["secretRef"]["name"] for e in container.get("envFrom", []) if "secretRef" in e}
    return names


def test_task_pods_carry_no_database_connection_and_no_fernet_key(stacks: dict[str, Any]) -> None:
    for env, stack in stacks.items():
        check_task_template(stack, env)


def check_task_template(stack: dict[str, Any], env: str) -> None:
    template = task_template(stack)
    assert template["metadata"]["labels"]["component"] == TASK_COMPONENT
    (container,) = template["spec"]["containers"]
    assert not {e["name"] for e in container["env"]} & PLATFORM_VARIABLES
    assert "envFrom" not in container
    read = secrets_read(template["spec"])
    assert not read & PLATFORM_SECRETS
    git = fixture_configs()[env].airflow.dags.git
    assert read == ({SecretNames().dags_git} if git and git.credentials_secret else set()), "only the DAG repository's read credentials"
    # Airflow's configuration comes from the chart's ConfigMap, which holds no secret (those are environment variables).
    assert [v["configMap"]["name"] for v in template["spec"]["volumes"] if "configMap" in v] == [f"{AIRFLOW_RELEASE}-config"]
    assert values_of(stack).get("enableBuiltInSecretEnvVars") is None, "the components keep their standard environment"


def network_policies(stack: dict[str, Any], namespace: str) -> list[dict[str, Any]]:
    return [p for p in resources(stack, "kubernetes_network_policy_v1").values() if p["metadata"]["namespace"] == namespace]


def _selects(selector: dict[str, Any] | None, labels: dict[str, str]) -> bool:
    wanted = (selector or {}).get("match_labels") or {}
    return all(labels.get(k) == v for k, v in wanted.items())


def _ports(rule: dict[str, Any]) -> set[str]:
    return {p["port"] for p in rule.get("ports", [])}


def _same_namespace_peer(peers: list[dict[str, Any]], labels: dict[str, str]) -> bool:
    return any("namespace_selector" not in peer and "pod_selector" in peer and _selects(peer["pod_selector"], labels) for peer in peers)


def _allows(policies: list[dict[str, Any]], kind: str, selected: dict[str, str], other: dict[str, str], port: int) -> bool:
    """A policy of ``kind`` (Egress or Ingress) selecting ``selected`` lets it talk to ``other`` on ``port``."""
    direction, peers = ("egress", "to") if kind == "Egress" else ("ingress", "from")
    return any(
        kind in p["spec"]["policy_types"] and _selects(p["spec"]["pod_selector"], selected) and str(port) in _ports(rule)
        and _same_namespace_peer(rule.get(peers, []), other)
        for p in policies
        for rule in p["spec"].get(direction, [])
    )  # fmt: skip


def reaches(stack: dict[str, Any], namespace: str, source: dict[str, str], target: dict[str, str], port: int) -> bool:
    """Both ends allow it: an egress rule of a policy selecting ``source`` and an ingress rule of one selecting ``target``."""
    policies = network_policies(stack, namespace)
    return _allows(policies, "Egress", source, target, port) and _allows(policies, "Ingress", target, source, port)


def test_exactly_the_components_that_use_the_database_reach_pgbouncer(stacks: dict[str, Any]) -> None:
    for env, stack in stacks.items():
        check_pgbouncer_flows(stack, env)


def check_pgbouncer_flows(stack: dict[str, Any], env: str) -> None:
    pgbouncer = {"tier": "airflow", "component": "pgbouncer", "release": AIRFLOW_RELEASE}
    celery = "CeleryExecutor" in fixture_configs()[env].airflow.executor
    users = {*DATABASE_COMPONENTS, "pools", *({"worker"} if celery else set())}
    for name in {*users, TASK_COMPONENT, "worker", "statsd", "redis"}:
        pod = {"tier": "airflow", "component": name, "release": AIRFLOW_RELEASE}
        assert reaches(stack, AIRFLOW_NAMESPACE, pod, pgbouncer, PGBOUNCER_PORT) == (name in users), name


# The admission policy, evaluated as Kyverno evaluates it.


def task_rule(stack: dict[str, Any]) -> list[dict[str, Any]]:
    """The rules of the ``airflow-task-pods`` policy of the stack's pod-policies release."""
    rules: list[dict[str, Any]] = policies(stack)["airflow-task-pods"]["spec"]["rules"]
    return rules


def kyverno_denies(rules: list[dict[str, Any]], pod: dict[str, Any]) -> list[str]:
    """The messages of the rules that reject ``pod`` (pattern on labels, deny conditions with AnyNotIn)."""
    rejected = []
    request = {"request": {"object": pod}}
    for rule in rules:
        validate = rule["validate"]
        if "pattern" in validate:
            wanted = validate["pattern"]["metadata"]["labels"]
            if any(pod["metadata"].get("labels", {}).get(k) != v for k, v in wanted.items()):
                rejected.append(rule["name"])
        for condition in validate.get("deny", {}).get("conditions", {}).get("any", []):
            expression = re.fullmatch(r"\{\{\s*(.*?)\s*\}\}", condition["key"], re.S)
            assert expression is not None and condition["operator"] == "AnyNotIn"
            found = jmespath.search(expression.group(1), request) or []
            if any(name not in condition["value"] for name in found):
                rejected.append(rule["name"])
    return rejected


def test_a_dags_pod_override_cannot_mount_platform_secrets_or_pose_as_a_component(stacks: dict[str, Any]) -> None:
    for stack in stacks.values():
        check_task_admission(stack)


def check_task_admission(stack: dict[str, Any]) -> None:
    rules = task_rule(stack)
    launchers = {s["name"] for r in rules for s in r["match"]["any"][0]["subjects"]}
    assert launchers == {f"airflow-{name}" for name in ("scheduler", "worker", "triggerer")}
    assert {r["match"]["any"][0]["resources"]["namespaces"][0] for r in rules} == {AIRFLOW_NAMESPACE}
    pod = task_template(stack)
    assert kyverno_denies(rules, pod) == [], "the template itself is admitted"
    mounted = copy.deepcopy(pod)
    mounted["spec"]["volumes"].append({"name": "db", "secret": {"secretName": SecretNames().metadata}})
    assert kyverno_denies(rules, mounted) == ["launched-pods-read-no-platform-secret"]
    fernet = copy.deepcopy(pod)
    fernet["spec"]["containers"][0]["env"].append(
        {"name": "K", "valueFrom": {"secretKeyRef": {"name": SecretNames().fernet_key, "key": "fernet-key"}}}
    )
    assert kyverno_denies(rules, fernet) == ["launched-pods-read-no-platform-secret"]
    every = copy.deepcopy(pod)
    every["spec"]["initContainers"] = [{"name": "x", "image": "busybox", "envFrom": [{"secretRef": {"name": SecretNames().jwt_secret}}]}]
    assert kyverno_denies(rules, every) == ["launched-pods-read-no-platform-secret"]
    disguised = copy.deepcopy(pod)
    disguised["metadata"]["labels"]["component"] = "scheduler"
    assert kyverno_denies(rules, disguised) == ["launched-pods-are-tasks"]


def test_the_rule_renders_for_an_environment_without_a_dag_repository() -> None:
    from platform_constructs.kubernetes.tenancy import BACKFILL_POOL, AirflowTaskRule, policy_values
    from platform_constructs.workloads import AIRFLOW_WORKLOADS

    rule = AirflowTaskRule(namespace="airflow", launchers=AIRFLOW_WORKLOADS[:1], component=TASK_COMPONENT)
    documents = render_chart(POLICIES_CHART, policy_values([], [], "Audit", BACKFILL_POOL, [rule]), name="pod-policies", namespace="kyverno")
    (policy,) = [d for d in documents if d and d["metadata"]["name"] == "airflow-task-pods"]
    pod = yaml.safe_load("metadata: {labels: {component: task}}\nspec: {volumes: [{name: s, secret: {secretName: anything}}], containers: []}")
    assert kyverno_denies(policy["spec"]["rules"], pod) == ["launched-pods-read-no-platform-secret"], "no secret at all"


# Keys that outlive the cluster.

KEPT_KEYS = {SecretNames().fernet_key: "fernet-key", SecretNames().api_secret_key: "api-secret-key", SecretNames().jwt_secret: "jwt-secret"}


def check_kept_keys(stack: dict[str, Any], prefix: str) -> list[dict[str, Any]]:
    """The three keys are pushed once to ``prefix…`` of the cloud's store and read back from there; returns the PushSecrets."""
    from platform_constructs.helm import SYNCED_SECRETS_CHART

    values = values_of(stack, "airflow-secrets")
    by_name = {e["name"]: e for e in values["externalSecrets"]}
    kept = {k["name"]: k for k in values["keptSecrets"]}
    assert set(kept) == set(KEPT_KEYS)
    for name, key in KEPT_KEYS.items():
        assert kept[name]["remoteKey"] == by_name[name]["remoteKey"] == f"{prefix}{key}", name
        assert "generator" not in by_name[name], f"{name} is read from the store, not generated in the cluster"
    documents = render_chart(SYNCED_SECRETS_CHART, values, name="airflow-secrets", namespace=AIRFLOW_NAMESPACE)
    pushes = [d for d in documents if d["kind"] == "PushSecret"]
    generators = {d["metadata"]["name"] for d in documents if d["kind"] == "Password"}
    assert len(pushes) == 3
    for push in pushes:
        spec = push["spec"]
        assert spec["updatePolicy"] == "IfNotExists" and spec["deletionPolicy"] == "None", "never overwritten, never deleted"
        assert spec["selector"]["generatorRef"]["name"] in generators
        assert spec["data"][0]["match"]["remoteRef"]["property"] == "value"
    return pushes


def test_airflows_keys_are_kept_in_the_cloud_store_and_read_back(stacks: dict[str, Any], synthesized: dict[str, Any]) -> None:
    import fnmatch
    import json

    checked = 0
    for env, stack in stacks.items():
        config = fixture_configs()[env]
        if config.cloud != "aws":
            continue
        pushes = check_kept_keys(stack, f"{config.resource_prefix}/airflow/")
        # On AWS, encrypted with the environment's key, as the database secret is.
        assert all(p["spec"]["data"][0]["metadata"]["spec"]["kmsKeyID"] for p in pushes)
        # The operator may create and write exactly those secrets (and delete none).
        platform = synthesized[config.stack_name("platform")]
        (document,) = [json.loads(p["policy"]) for p in resources(platform, "aws_iam_role_policy").values() if p["name"] == "read-airflow-secrets"]
        writes = [s for s in document["Statement"] if "secretsmanager:CreateSecret" in s["Action"]]
        (write,) = writes
        assert not any("Delete" in a for s in document["Statement"] for a in s["Action"])
        for key in KEPT_KEYS.values():
            arn = f"arn:aws:secretsmanager:{config.aws.region}:{config.aws.account_id}:secret:{config.resource_prefix}/airflow/{key}-AbCdEf"
            assert any(fnmatch.fnmatchcase(arn, pattern) for pattern in write["Resource"])
        team_secret = f"arn:aws:secretsmanager:{config.aws.region}:{config.aws.account_id}:secret:teams/x"
        assert not any(fnmatch.fnmatchcase(team_secret, p) for p in write["Resource"])
        checked += 1
    assert checked


def test_on_gke_the_keys_are_kept_under_a_condition_of_their_own(gke_stacks: dict[str, Any]) -> None:
    for env, stack in gke_stacks.items():
        prefix = f"flightdeck-{env}-airflow-"
        check_kept_keys(stack, prefix)
        grants = [g for g in resources(stack, "google_project_iam_member").values() if g["role"] == "roles/secretmanager.admin"]
        (grant,) = grants
        assert grant["condition"]["expression"].endswith(f'/secrets/{prefix}")')


def test_an_existing_clusters_keys_stay_in_the_cluster(existing_stack: dict[str, Any]) -> None:
    values = values_of(existing_stack, "airflow-secrets")
    assert values["keptSecrets"] == []
    by_name = {e["name"]: e for e in values["externalSecrets"]}
    assert all(by_name[name]["refreshInterval"] == "0" and "generator" in by_name[name] for name in KEPT_KEYS)


# Airflow's own database role.


def test_airflow_connects_as_its_own_role_never_as_the_master_user(stacks: dict[str, Any]) -> None:
    from platform_constructs.airflow.database_roles import APP_SECRET, MASTER_SECRET, ROLES_NAMESPACE

    APP_USER = SHARED_AIRFLOW.database_user
    for env, stack in stacks.items():
        config = fixture_configs()[env]
        if config.cloud != "aws":
            continue
        master_user = next(iter(resources(stack, "aws_db_instance").values()))["username"]
        assert master_user != APP_USER
        synced = {e["name"]: e for e in values_of(stack, "airflow-secrets")["externalSecrets"]}
        assert synced[SecretNames().metadata]["template"]["connection"].startswith(f"postgresql://{APP_USER}:")
        assert synced[SecretNames().pgbouncer_config]["template"]["users.txt"].startswith(f'"{APP_USER}" ')
        # The master secret is synced in the roles namespace only: no release of another namespace reads it.
        master_key = ".master_user_secret[0].secret_arn}"
        readers = {
            r["namespace"]
            for r in resources(stack, "helm_release").values()
            for e in (parse_yaml(r["values"][0]) if r.get("values") else {}).get("externalSecrets", [])
            if str(e.get("remoteKey", "")).endswith(master_key)
        }
        assert readers == {ROLES_NAMESPACE}, env
        roles = {e["name"]: e for e in values_of(stack, "airflow-db-admin-secrets")["externalSecrets"]}
        dedicated = {f"{APP_SECRET}-{team.name}" for team in config.dedicated_teams}
        assert set(roles) == {MASTER_SECRET, APP_SECRET, *dedicated}


def test_the_roles_job_makes_the_role_with_secrets_from_its_namespace_and_reaches_only_the_database(stacks: dict[str, Any]) -> None:
    from platform_constructs.airflow.database_roles import APP_SECRET, ROLES_CHART, ROLES_NAMESPACE

    for env, stack in stacks.items():
        config = fixture_configs()[env]
        if config.cloud != "aws":
            continue
        documents = render_chart(ROLES_CHART, values_of(stack, "database-roles"), name="database-roles", namespace=ROLES_NAMESPACE)
        kinds = {d["kind"]: d for d in documents}
        assert set(kinds) == {"ConfigMap", "Job", "CronJob"}
        sql = kinds["ConfigMap"]["data"]["roles.sql"]
        for statement in ("CREATE ROLE %I LOGIN", "PASSWORD %L", "ALTER DATABASE %I OWNER TO %I", "REVOKE ALL ON DATABASE", "NOCREATEROLE"):
            assert statement in sql
        pods = [kinds["Job"]["spec"]["template"]["spec"], kinds["CronJob"]["spec"]["jobTemplate"]["spec"]["template"]["spec"]]
        # One container per Airflow: the shared one's role, then each team's own.
        instances = [SHARED_AIRFLOW, *(AirflowInstance(team.name) for team in config.dedicated_teams)]
        for pod in pods:
            assert len(pod["containers"]) == len(instances)
            for container, instance in zip(pod["containers"], instances, strict=True):
                assert not any("PASSWORD" in arg or "$(" in arg for arg in container["command"]), "no secret in an argument"
                env_vars = {e["name"]: e for e in container["env"]}
                assert env_vars["APP_USER"]["value"] == instance.database_user
                assert env_vars["APP_DATABASE"]["value"] == instance.database_name("airflow")
                secret = APP_SECRET if instance.team is None else f"{APP_SECRET}-{instance.team}"
                assert env_vars["APP_PASSWORD"]["valueFrom"]["secretKeyRef"]["name"] == secret
                assert container["securityContext"]["readOnlyRootFilesystem"]
            assert secrets_read(pod) == {"airflow-database-master", APP_SECRET, *(f"{APP_SECRET}-{t.name}" for t in config.dedicated_teams)}
            assert pod["securityContext"]["runAsNonRoot"]
            assert pod["nodeSelector"] == {"flightdeck.io/node-pool": "system"}
        # The namespace's pods reach the database and DNS, nothing else.
        egress = [p for p in network_policies(stack, ROLES_NAMESPACE) if "Egress" in p["spec"]["policy_types"] and p["spec"].get("egress")]
        rules = [rule for p in egress for rule in p["spec"]["egress"]]
        targets = {(peer.get("ip_block", {}).get("cidr"), port["port"]) for rule in rules for peer in rule["to"] for port in rule["ports"]}
        database_port = str(values_of(stack, "database-roles")["database"]["port"])
        addresses = {(cidr, port) for cidr, port in targets if cidr is not None}
        assert addresses and {port for _, port in addresses} == {database_port}, "only the database's port on its addresses"
        assert {port for cidr, port in targets if cidr is None} <= {"53"}, "and DNS"
        assert not [p for p in network_policies(stack, ROLES_NAMESPACE) if "Ingress" in p["spec"]["policy_types"] and p["spec"].get("ingress")]


def test_the_roles_job_runs_again_when_the_database_moves_and_not_on_unrelated_changes(stacks: dict[str, Any], gke_stacks: dict[str, Any]) -> None:
    """The Job's name is its revision: a hash of what it applies, and Terraform's hash of the database's host.

    The host is another stack's output, a numbered token at synthesis; were that token hashed, every
    unrelated change that shifts token numbers would start a new Job, and a restore (a new host) might not.
    """
    checked = 0
    for stack in [*stacks.values(), *gke_stacks.values()]:
        if "database-roles" not in releases(stack):
            continue
        checked += 1
        values = values_of(stack, "database-roles")
        digest, _, hashed = values["revision"].partition("-")
        assert re.fullmatch(r"[0-9a-f]{10}", digest)
        host = values["database"]["host"]
        assert host.startswith("${") and host.endswith("}"), "the host is the platform stack's output"
        assert hashed == f"${{substr(sha256({host[2:-1]}), 0, 6)}}"
        rest = {k: v for k, v in values.items() if k not in ("revision", "database")}
        assert "${" not in json.dumps(rest) + json.dumps({**values["database"], "host": None}), "everything else hashed is known"
    assert checked == len(stacks) + len(gke_stacks), "every cluster stack has the roles job"


def test_a_changed_password_reaches_pgbouncer_and_every_component_within_a_bound(stacks: dict[str, Any]) -> None:
    """ESO rewrites the secrets within its refresh interval, the roles CronJob sets the new password in the
    database within its period, and Reloader restarts whatever reads a changed secret."""
    from platform_constructs.helm import STORE_REFRESH
    from platform_constructs.kubernetes.addons import RELOAD_ON_CHANGE

    for env, stack in stacks.items():
        values = values_of(stack)
        for section in ("scheduler", "apiServer", "triggerer", "dagProcessor", "pgbouncer"):
            assert values[section]["annotations"] == RELOAD_ON_CHANGE, section
        reloader = values_of(stack, "reloader")["reloader"]
        airflows = [AIRFLOW_NAMESPACE, *(t.airflow_namespace for t in fixture_configs()[env].dedicated_teams)]
        assert reloader["namespaces"] == airflows and reloader["watchGlobally"] is False
        synced = {e["name"]: e for e in values_of(stack, "airflow-secrets")["externalSecrets"]}
        for name in (SecretNames().metadata, SecretNames().pgbouncer_config, SecretNames().pgbouncer_stats):
            assert synced[name]["refreshInterval"] == STORE_REFRESH == "1h"
        assert values_of(stack, "database-roles").get("schedule", "*/10 * * * *") == "*/10 * * * *"

"""The Airflow release and its guardrails, checked in the synthesized stacks and in the pure value builders."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from platform_constructs.airflow.secrets import AirflowSecretsProps, secrets_values
from platform_constructs.airflow.values import (
    AirflowValuesProps,
    ComponentSpec,
    ResourceSpec,
    UiSpec,
    airflow_values,
)
from platform_constructs.handles import (
    DatabaseHandle,
    DatabaseMetrics,
    IngressHandle,
    LogStore,
    SecretStoreHandle,
    WorkloadIdentity,
)
from platform_constructs.workloads import AIRFLOW_WORKLOADS

from .conftest import DATA, fixture_configs, network_policies, only, releases, resources, values_of

DB_METRICS = DatabaseMetrics(scope="db:x", cpu_percent="cpu", free_storage_bytes="free", connections="conns")

ENVIRONMENTS = ("dev", "qa", "prod")
SCHEMA_FILE = DATA / "airflow-chart" / "values.schema.json"


@cache
def chart_schema() -> dict[str, Any]:
    return json.loads(Path(SCHEMA_FILE).read_text())


def schema_errors(values: dict[str, Any]) -> list[str]:
    schema = chart_schema()
    validator = jsonschema.Draft7Validator(schema)
    errors = [f"{'.'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(values)]
    # The schema's root accepts unknown keys, so a misspelled section would pass unnoticed.
    errors += [f"{key}: not a chart value" for key in values if key not in schema["properties"]]
    return errors


# The release


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_values_match_the_chart_schema(stacks: dict[str, Any], env: str) -> None:
    values = values_of(stacks[env])
    assert schema_errors(values) == []
    # The reference schema has one key chart 1.22.0 never released.
    assert "splitApiServersIntoCoreAndExecution" not in values


def test_schema_check_rejects_what_the_chart_would() -> None:
    assert schema_errors({"scheduler": {"replica": 2}, "executr": "KubernetesExecutor"}) == [
        "scheduler: Additional properties are not allowed ('replica' was unexpected)",
        "executr: not a chart value",
    ]


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_official_chart_pinned_and_deploy_waits_for_migrations(stacks: dict[str, Any], env: str) -> None:
    release = releases(stacks[env])["airflow"]
    assert (release["chart"], release["repository"], release["version"]) == ("airflow", "https://airflow.apache.org", "1.22.0")
    assert release["wait"] is True and release["wait_for_jobs"] is True
    assert 300 <= release["timeout"] <= 3600
    values = values_of(stacks[env])
    assert values["migrateDatabaseJob"]["useHelmHooks"] is False
    assert values["createUserJob"]["useHelmHooks"] is False


def test_prod_is_highly_available(stacks: dict[str, Any]) -> None:
    values = values_of(stacks["prod"])
    for component in ("scheduler", "apiServer", "triggerer"):
        assert values[component]["replicas"] >= 2, component
    assert values["dagProcessor"]["enabled"] is True
    for component in ("scheduler", "apiServer", "triggerer", "dagProcessor", "pgbouncer"):
        assert values[component]["podDisruptionBudget"]["enabled"] is True, component
        (spread,) = values[component]["topologySpreadConstraints"]
        assert spread["topologyKey"] == "topology.kubernetes.io/zone"
        assert spread["whenUnsatisfiable"] == "DoNotSchedule"


def test_dev_is_small_and_spreads_only_best_effort(stacks: dict[str, Any]) -> None:
    values = values_of(stacks["dev"])
    assert values["scheduler"]["replicas"] == 1
    assert values["scheduler"]["topologySpreadConstraints"][0]["whenUnsatisfiable"] == "ScheduleAnyway"


@pytest.mark.parametrize("env", ["qa", "prod"])
def test_no_default_admin_user_outside_dev(stacks: dict[str, Any], env: str) -> None:
    assert values_of(stacks[env])["createUserJob"]["enabled"] is False
    secrets = {s["name"] for s in values_of(stacks[env], "airflow-secrets")["externalSecrets"]}
    assert "airflow-admin-password" not in secrets


def test_dev_admin_password_is_generated_in_the_cluster(stacks: dict[str, Any]) -> None:
    job = values_of(stacks["dev"])["createUserJob"]
    assert job["enabled"] is True
    assert job["args"][-2:] == ["-p", "$(FLIGHTDECK_ADMIN_PASSWORD)"]
    assert job["env"][0]["valueFrom"]["secretKeyRef"] == {"name": "airflow-admin-password", "key": "password"}


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_database_through_pgbouncer_with_secrets_made_in_the_cluster(stacks: dict[str, Any], env: str) -> None:
    stack = stacks[env]
    values = values_of(stack)
    assert values["postgresql"]["enabled"] is False
    assert values["pgbouncer"]["enabled"] is True
    assert values["data"] == {"metadataSecretName": "airflow-metadata"}
    assert values["pgbouncer"]["configSecretName"] == "airflow-pgbouncer-config"
    for key in ("fernetKey", "apiSecretKey", "jwtSecret", "webserverSecretKey"):
        assert key not in values, f"{key} would put a secret in the synthesized JSON"
    assert values["fernetKeySecretName"] and values["apiSecretKeySecretName"] and values["jwtSecretName"]

    secrets = {s["name"]: s for s in values_of(stack, "airflow-secrets")["externalSecrets"]}
    db_secret = only(stack, "aws_db_instance")
    # Airflow connects as its own role, whose password is kept in the store; the master secret is read
    # only in the roles namespace (tests/test_airflow_trust.py).
    assert secrets["airflow-metadata"]["remoteKey"] == f"flightdeck-{env}/airflow/database-password"
    assert "airflow_app:" in secrets["airflow-metadata"]["template"]["connection"]
    roles = {s["name"]: s for s in values_of(stack, "airflow-db-admin-secrets")["externalSecrets"]}
    assert roles["airflow-database-master"]["remoteKey"].endswith(".master_user_secret[0].secret_arn}")
    assert "aws_db_instance" in roles["airflow-database-master"]["remoteKey"]
    assert db_secret["manage_master_user_password"] is True


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_secret_operator_reads_only_the_secrets_it_syncs(stacks: dict[str, Any], env: str) -> None:
    stack = stacks[env]
    policies = {p["name"]: json.loads(p["policy"]) for p in resources(stack, "aws_iam_role_policy").values()}
    statements = policies["read-airflow-secrets"]["Statement"]
    secret_statement = next(s for s in statements if "secretsmanager:GetSecretValue" in s["Action"])
    assert secret_statement["Resource"][0].endswith(".master_user_secret[0].secret_arn}")
    account = stack["provider"]["aws"][0]["allowed_account_ids"][0]
    # The DAG repository's credentials, the Datadog API key and the sign-in client's secret (outside dev), nothing else.
    named = ["flightdeck/dags-git", "flightdeck/datadog", *(["flightdeck/airflow-sso"] if env != "dev" else [])]
    assert secret_statement["Resource"][1:] == [f"arn:aws:secretsmanager:eu-west-1:{account}:secret:{name}-??????" for name in named]
    associations = {(a["namespace"], a["service_account"]) for a in resources(stack, "aws_eks_pod_identity_association").values()}
    assert ("external-secrets", "external-secrets") in associations
    eso = releases(stack)["external-secrets"]
    assert (eso["repository"], eso["version"]) == ("https://charts.external-secrets.io", "2.14.0")


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_secrets_chart_is_deployed_from_the_project(stacks: dict[str, Any], env: str) -> None:
    release = releases(stacks[env])["airflow-secrets"]
    assert release["chart"].startswith("assets/")
    assert any(d.startswith("helm_release.addons_external-secrets_") for d in release["depends_on"]), "after the operator"
    assert "helm_release.airflow_secrets_BE3530E4" in releases(stacks[env])["airflow"]["depends_on"]


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_remote_task_logs_go_to_the_environment_bucket(stacks: dict[str, Any], env: str) -> None:
    values = values_of(stacks[env])
    bucket = only(stacks[env], "aws_s3_bucket")["bucket"]
    logging = values["config"]["logging"]
    assert logging["remote_logging"] == "True"
    assert logging["remote_base_log_folder"] == f"s3://{bucket}/airflow"
    connection = f"AIRFLOW_CONN_{logging['remote_log_conn_id'].upper()}"
    assert {"name": connection, "value": "aws://?region_name=eu-west-1"} in values["env"]


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_each_component_runs_as_its_pod_identity(stacks: dict[str, Any], env: str) -> None:
    stack = stacks[env]
    values = values_of(stack)
    associated = {a["service_account"] for a in resources(stack, "aws_eks_pod_identity_association").values() if a["namespace"] == "airflow"}
    service_accounts = {values[c]["serviceAccount"]["name"] for c in ("scheduler", "apiServer", "triggerer", "dagProcessor", "workers")}
    assert service_accounts == associated


def test_git_dags_use_a_versioned_bundle(stacks: dict[str, Any]) -> None:
    values = values_of(stacks["prod"])
    (bundle,) = values["dagProcessor"]["dagBundleConfigList"]
    assert bundle["classpath"] == "airflow.providers.git.bundles.git.GitDagBundle"
    assert bundle["kwargs"]["tracking_ref"] == "release"
    assert {"envName": "AIRFLOW_CONN_DAGS_GIT", "secretName": "airflow-dags-git", "secretKey": "connection"} in values["secret"]


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_ui_is_an_internal_alb_with_tls(stacks: dict[str, Any], env: str) -> None:
    ingress = values_of(stacks[env])["ingress"]["apiServer"]
    assert ingress["ingressClassName"] == "alb"
    assert ingress["annotations"]["alb.ingress.kubernetes.io/scheme"] == "internal"
    assert ingress["annotations"]["alb.ingress.kubernetes.io/certificate-arn"].startswith("arn:aws:acm:")
    controller = releases(stacks[env])["aws-load-balancer-controller"]
    assert controller["version"] == "3.4.2"


# Providers and guardrails


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_cluster_providers_use_short_lived_tokens(stacks: dict[str, Any], env: str) -> None:
    (kubernetes,) = stacks[env]["provider"]["kubernetes"]
    (helm,) = stacks[env]["provider"]["helm"]
    for config in (kubernetes, helm["kubernetes"]):
        assert "token" not in config
        assert config["host"].startswith("${aws_eks_cluster.")
        exec_block = config["exec"][0] if isinstance(config["exec"], list) else config["exec"]
        assert exec_block["command"] == "aws"
        assert exec_block["args"][:2] == ["eks", "get-token"]


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_airflow_namespaces_have_pod_security_quota_and_limits(stacks: dict[str, Any], env: str) -> None:
    stack = stacks[env]
    namespaces = {n["metadata"]["name"]: n["metadata"]["labels"] for n in resources(stack, "kubernetes_namespace_v1").values()}
    # Airflow's two, each team's own Airflow's, its database roles' (restricted, see test_airflow_trust.py),
    # the Datadog Agent's (privileged, see test_datadog.py) and the teams' (test_teams.py).
    config = fixture_configs()[env]
    teams = {t.namespace for t in config.teams}
    own = {t.airflow_namespace for t in config.dedicated_teams}
    monitoring = {"datadog"} if config.datadog else set()
    assert set(namespaces) == {"airflow", *config.airflow.task_namespaces, "airflow-db-admin"} | monitoring | teams | own
    assert namespaces["airflow-db-admin"]["pod-security.kubernetes.io/enforce"] == "restricted"
    for name in ("airflow", *config.airflow.task_namespaces, *own):
        assert namespaces[name]["pod-security.kubernetes.io/enforce"] == "baseline"
        assert namespaces[name]["pod-security.kubernetes.io/warn"] == "restricted"
    quotas = {q["metadata"]["namespace"] for q in resources(stack, "kubernetes_resource_quota_v1").values()}
    limits = {q["metadata"]["namespace"] for q in resources(stack, "kubernetes_limit_range_v1").values()}
    assert quotas == limits == set(namespaces)


@pytest.mark.parametrize("env", ENVIRONMENTS)
@pytest.mark.parametrize("namespace", ["airflow", "airflow-tasks"])
def test_namespaces_deny_by_default_and_allow_dns(stacks: dict[str, Any], env: str, namespace: str) -> None:
    found = network_policies(stacks[env], namespace)
    deny = found["default-deny"]
    assert deny["policy_types"] == ["Ingress", "Egress"]
    assert "ingress" not in deny and "egress" not in deny
    assert deny["pod_selector"] == {}
    dns_ports = {(p["port"], p["protocol"]) for p in found["allow-egress-dns"]["egress"][0]["ports"]}
    assert dns_ports == {("53", "UDP"), ("53", "TCP")}
    https = found["allow-egress-https"]["egress"][0]
    assert https["ports"] == [{"port": "443", "protocol": "TCP"}]


def test_only_pgbouncer_reaches_the_database(stacks: dict[str, Any]) -> None:
    stack = stacks["prod"]
    found = network_policies(stack, "airflow")
    database = found["allow-egress-database"]
    assert database["pod_selector"]["match_labels"] == {"component": "pgbouncer", "release": "airflow"}
    cidrs = {peer["ip_block"]["cidr"] for peer in database["egress"][0]["to"]}
    subnets = {s["cidr_block"] for s in resources(stack, "aws_subnet").values() if "database" in s["tags"]["Name"]}
    assert cidrs == subnets
    port_5432 = [name for name, spec in found.items() if any(p.get("port") == "5432" for e in spec.get("egress", []) for p in e["ports"])]
    assert port_5432 == ["allow-egress-database"]


def test_ui_is_reachable_only_through_the_load_balancer(stacks: dict[str, Any]) -> None:
    found = network_policies(stacks["prod"], "airflow")
    ui = found["allow-ingress-ui-from-load-balancer"]
    assert ui["pod_selector"]["match_labels"] == {"component": "api-server", "release": "airflow"}
    assert ui["ingress"][0]["from"] == [{"ip_block": {"cidr": "10.30.0.0/16"}}]
    assert ui["ingress"][0]["ports"] == [{"port": "8080", "protocol": "TCP"}]


def test_statsd_goes_to_the_datadog_agent(stacks: dict[str, Any]) -> None:
    found = network_policies(stacks["prod"], "airflow")
    egress = found["allow-egress-statsd"]["egress"][0]
    assert egress["ports"] == [{"port": "8125", "protocol": "UDP"}]
    (peer,) = egress["to"]
    assert peer["namespace_selector"]["match_labels"] == {"kubernetes.io/metadata.name": "datadog"}
    assert peer["pod_selector"]["match_labels"] == {"app": "datadog"}
    # No chart StatsD exporter when the agent collects the metrics, so nothing may reach one.
    assert "allow-ingress-statsd" not in found
    values = values_of(stacks["prod"], "airflow")
    assert values["statsd"] == {"enabled": False}
    assert values["config"]["metrics"] == {
        "statsd_on": "True",
        "statsd_host": "datadog.datadog.svc.cluster.local",
        "statsd_port": 8125,
        "statsd_prefix": "airflow",
    }


def test_without_an_agent_airflow_keeps_its_own_statsd_exporter() -> None:
    values = airflow_values(sample_props())
    assert values["statsd"] == {"enabled": True}
    assert "metrics" not in values["config"]


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_airflow_launches_pods_only_in_listed_namespaces(stacks: dict[str, Any], env: str) -> None:
    stack = stacks[env]
    assert resources(stack, "kubernetes_cluster_role_v1") == {}
    assert resources(stack, "kubernetes_cluster_role_binding_v1") == {}
    config = fixture_configs()[env]
    teams = [t.namespace for t in config.teams]
    launchers = [r for r in resources(stack, "kubernetes_role_v1").values() if r["metadata"]["name"] == "airflow-pod-launcher"]
    roles = {r["metadata"]["namespace"]: r for r in launchers}
    assert sorted(roles) == sorted([*config.airflow.task_namespaces, *teams]), "the task namespaces and the teams' only"
    # Each namespace's pods are started by one Airflow: a team's own, or the shared one.
    runs = {t.namespace: t.airflow_namespace for t in config.dedicated_teams}
    # Besides, only hibernation's own Role (tests/test_hibernation.py).
    others = {r["metadata"]["name"] for r in resources(stack, "kubernetes_role_v1").values()} - {"airflow-pod-launcher"}
    assert others <= {"airflow-hibernation"}
    for role in roles.values():
        assert {r["resources"][0] for r in role["rule"]} == {"pods", "pods/log", "pods/exec", "events", "jobs", "jobs/status"}
    for binding in resources(stack, "kubernetes_role_binding_v1").values():
        if binding["metadata"]["name"] != "airflow-pod-launcher":
            continue
        subjects = {(s["namespace"], s["name"]) for s in binding["subject"]}
        airflow = runs.get(binding["metadata"]["namespace"], "airflow")
        assert subjects == {(airflow, "airflow-scheduler"), (airflow, "airflow-worker"), (airflow, "airflow-triggerer")}
    for namespace in ("airflow", *runs.values()):
        assert values_of(stack, namespace=namespace)["multiNamespaceMode"] is False


# Pure builders: the other executors and the secrets chart, without synthesizing


def sample_props(**changes: Any) -> AirflowValuesProps:
    spec = ComponentSpec(replicas=2, resources=ResourceSpec(cpu="500m", memory="1Gi"))
    base: dict[str, Any] = {
        "namespace": "airflow",
        "executor": "KubernetesExecutor",
        "image_repository": "apache/airflow",
        "image_tag": "3.2.2",
        "airflow_version": "3.2.2",
        "components": {k: spec for k in ("scheduler", "api_server", "triggerer", "dag_processor", "pgbouncer")},
        "task_resources": ResourceSpec(cpu="250m", memory="512Mi"),
        "identities": {w.name: WorkloadIdentity(workload=w, principal=f"role/{w.name}") for w in AIRFLOW_WORKLOADS},
        "database": DatabaseHandle(
            host="db.internal", port=5432, database_name="airflow", username="admin", credentials_secret="arn:db", metrics=DB_METRICS
        ),
        "log_store": LogStore(bucket="logs", remote_base_log_folder="s3://logs/airflow", connection_id="aws_logs", connection_uri="aws://"),
        "ingress": IngressHandle(
            class_name="alb",
            internal_annotations={"scheme": "internal"},
            public_annotations={"scheme": "internet-facing"},
            tls_annotation="cert",
            source_ranges_annotation="ranges",
        ),
        "ui": UiSpec(hostname="airflow.example.internal", certificate="arn:cert"),
    }
    base.update(changes)
    return AirflowValuesProps(**base)


@pytest.mark.parametrize("executor", ["CeleryExecutor", "CeleryExecutor,KubernetesExecutor"])
def test_celery_executors_are_valid_chart_values(executor: str) -> None:
    values = airflow_values(sample_props(executor=executor, celery_workers=3))
    assert schema_errors(values) == []
    assert values["executor"] == executor
    assert values["redis"]["enabled"] is True
    assert values["workers"]["replicas"] == 3
    # KEDA scales the workers from the queue, through PgBouncer, up to celery_workers.
    keda = values["workers"]["celery"]["keda"]
    assert keda == {"enabled": True, "minReplicaCount": 0, "maxReplicaCount": 3, "pollingInterval": 15, "cooldownPeriod": 300, "usePgbouncer": True}


def test_celery_brings_keda_and_keda_reaches_pgbouncer() -> None:
    from platform_constructs.kubernetes.addons import KEDA_NAMESPACE, KEDA_OPERATOR, install_order, keda

    chart = keda()
    assert (chart.repository, chart.version, chart.namespace) == ("https://kedacore.github.io/charts", "2.18.1", KEDA_NAMESPACE)
    assert chart.values["nodeSelector"] == {"flightdeck.io/node-pool": "system"}
    assert [a.name for a in install_order([chart])] == ["keda"]
    assert KEDA_OPERATOR == {"app.kubernetes.io/name": "keda-operator"}


def test_kubernetes_executor_needs_no_redis() -> None:
    assert airflow_values(sample_props())["redis"]["enabled"] is False
    assert airflow_values(sample_props())["workers"]["celery"]["keda"]["enabled"] is False


def test_public_ui_carries_its_allow_list() -> None:
    ui = UiSpec(hostname="airflow.example.com", certificate="arn:cert", public=True, allowed_cidrs=("203.0.113.0/24",))
    annotations = airflow_values(sample_props(ui=ui))["ingress"]["apiServer"]["annotations"]
    assert annotations == {"scheme": "internet-facing", "cert": "arn:cert", "ranges": "203.0.113.0/24"}


def test_config_overrides_merge_but_cannot_replace_managed_settings() -> None:
    values = airflow_values(sample_props(config_overrides={"core": {"parallelism": 64}}))
    assert values["config"]["core"] == {"load_examples": "False", "parallelism": 64}
    with pytest.raises(ValueError, match=r"airflow\.config\.logging\.remote_base_log_folder is set by Flightdeck"):
        airflow_values(sample_props(config_overrides={"logging": {"remote_base_log_folder": "s3://elsewhere"}}))


def test_fernet_key_template_yields_a_valid_key_length() -> None:
    values = secrets_values(
        AirflowSecretsProps(
            namespace="airflow",
            store=SecretStoreHandle(provider={"aws": {}}, identity=WorkloadIdentity(workload=AIRFLOW_WORKLOADS[0], principal="x")),
            database=DatabaseHandle(host="db", port=5432, database_name="airflow", username="u", credentials_secret="arn:db", metrics=DB_METRICS),
        )
    )
    generators = {g["name"]: g["spec"] for g in values["generators"]}
    fernet = next(s for s in values["externalSecrets"] if s["name"] == "airflow-fernet-key")
    # 43 base64url characters plus '=' padding encode exactly 32 bytes, as Fernet requires.
    assert generators[fernet["generator"]]["length"] == 43
    assert set(generators[fernet["generator"]]["symbolCharacters"]) <= set("-_")
    assert fernet["template"] == {"fernet-key": "{{ .password }}="}

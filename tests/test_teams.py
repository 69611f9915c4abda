"""Teams: per-team namespaces, identities, placement, admission policies, pools and tags."""

from __future__ import annotations

import ast
import json
import subprocess
from pathlib import Path
from typing import Any, cast

import pytest

from platform_constructs.kubernetes.tenancy import POLICIES_CHART
from platform_constructs.tagging import missing_tags

from .conftest import (
    REPO,
    background,
    environments_of,
    fixture_configs,
    releases,
    render_chart,
    rendered,
    resources,
    run_probe,
    synthesized_by,
    values_of,
)

TEAM_ENVS = ("qa", "prod")


def in_namespace(stack: dict[str, Any], kind: str, namespace: str) -> list[dict[str, Any]]:
    return [r for r in resources(stack, kind).values() if r["metadata"]["namespace"] == namespace]


def test_qa_and_prod_declare_two_example_teams() -> None:
    for env in TEAM_ENVS:
        assert [t.name for t in fixture_configs()[env].teams] == ["analytics", "marketing"]
    assert fixture_configs()["dev"].teams == []


@pytest.mark.parametrize("env", TEAM_ENVS)
def test_every_team_gets_its_namespace_quota_identity_and_launch_rights(stacks: dict[str, Any], env: str) -> None:
    stack = stacks[env]
    for team in fixture_configs()[env].teams:
        ns = team.namespace
        (namespace,) = [n for n in resources(stack, "kubernetes_namespace_v1").values() if n["metadata"]["name"] == ns]
        labels = namespace["metadata"]["labels"]
        assert labels["team"] == team.name and labels["cost-center"] == team.cost_center
        assert labels["pod-security.kubernetes.io/enforce"] == "baseline"
        (quota,) = in_namespace(stack, "kubernetes_resource_quota_v1", ns)
        assert quota["spec"]["hard"] == {
            "requests.cpu": team.quota.cpu,
            "requests.memory": team.quota.memory,
            "limits.memory": team.quota.memory,
            "pods": str(team.quota.pods),
        }
        assert len(in_namespace(stack, "kubernetes_limit_range_v1", ns)) == 1
        (account,) = in_namespace(stack, "kubernetes_service_account_v1", ns)
        assert account["metadata"]["name"] == f"{team.name}-tasks"
        assert account["metadata"]["labels"] == {"team": team.name, "cost-center": team.cost_center}
        # Airflow's launchers may run pods here (KubernetesPodOperator), with a namespaced Role only.
        (binding,) = in_namespace(stack, "kubernetes_role_binding_v1", ns)
        assert {s["name"] for s in binding["subject"]} == {"airflow-scheduler", "airflow-worker", "airflow-triggerer"}
        associations = [
            a for a in resources(stack, "aws_eks_pod_identity_association").values() if a["namespace"] == ns
        ]
        assert [(a["service_account"], a["tags"]["team"]) for a in associations] == [(f"{team.name}-tasks", team.name)]


def team_policy(stack: dict[str, Any], team: str) -> dict[str, Any]:
    (role,) = [r for r in resources(stack, "aws_iam_role").values() if r["name"] == f"flightdeck-prod-team-{team}"]
    assert role["tags"] == {"env": "prod", "team": team, "cost-center": role["tags"]["cost-center"], "managed-by": "flightdeck"}
    (policy,) = [
        json.loads(p["policy"])
        for p in resources(stack, "aws_iam_role_policy").values()
        if p["role"].startswith("${aws_iam_role.platform_team-identities_team-" + team + "-role")
    ]
    return policy


def test_team_roles_grant_only_the_declared_buckets_and_secrets(stacks: dict[str, Any]) -> None:
    analytics = team_policy(stacks["prod"], "analytics")["Statement"]
    by_resource = {tuple(s["Resource"]) if isinstance(s["Resource"], list) else (s["Resource"],): s for s in analytics}
    assert by_resource[("arn:aws:s3:::example-analytics-data-prod/curated/*",)]["Action"] == [
        "s3:GetObject", "s3:PutObject", "s3:DeleteObject"
    ]
    assert by_resource[("arn:aws:s3:::example-raw-events-prod/events/*",)]["Action"] == ["s3:GetObject"]
    assert by_resource[("arn:aws:s3:::example-raw-events-prod",)]["Condition"] == {"StringLike": {"s3:prefix": ["events/*"]}}
    assert by_resource[("arn:aws:secretsmanager:eu-west-1:333333333333:secret:teams/analytics/warehouse-??????",)]["Action"] == [
        "secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"
    ]
    marketing = json.dumps(team_policy(stacks["prod"], "marketing"))
    assert "analytics" not in marketing and "secretsmanager" not in marketing


def admitted_ingress(stack: dict[str, Any], namespace: str, source_namespace: str) -> list[str]:
    """Policies in ``namespace`` that would let pods of ``source_namespace`` connect (any port)."""
    found = []
    for policy in in_namespace(stack, "kubernetes_network_policy_v1", namespace):
        for rule in policy["spec"].get("ingress") or []:
            for peer in rule.get("from") or [{}]:
                selector = peer.get("namespace_selector")
                same_ns = selector is None and "ip_block" not in peer
                names = (selector or {}).get("match_labels", {}).get("kubernetes.io/metadata.name")
                if "ip_block" in peer or (selector is not None and names in (None, source_namespace)) or (
                    same_ns and source_namespace == namespace
                ):
                    found.append(policy["metadata"]["name"])
    return found


@pytest.mark.parametrize("env", TEAM_ENVS)
def test_teams_cannot_reach_each_other(stacks: dict[str, Any], env: str) -> None:
    stack = stacks[env]
    for a, b in (("team-analytics", "team-marketing"), ("team-marketing", "team-analytics")):
        names = {p["metadata"]["name"]: p["spec"] for p in in_namespace(stack, "kubernetes_network_policy_v1", a)}
        assert names["default-deny"]["policy_types"] == ["Ingress", "Egress"]
        assert set(names) == {"default-deny", "allow-egress-dns", "allow-egress-https", "allow-egress-workload-credentials-80"}
        assert admitted_ingress(stack, a, b) == []


def test_ingress_checker_sees_an_opening() -> None:
    stack = {"resource": {"kubernetes_network_policy_v1": {"p": {
        "metadata": {"name": "open", "namespace": "team-a"},
        "spec": {"ingress": [{"from": [{"namespace_selector": {"match_labels": {"kubernetes.io/metadata.name": "team-b"}}}]}]},
    }}}}
    assert admitted_ingress(stack, "team-a", "team-b") == ["open"]


# Admission policies


def team_policies(stack: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {d["metadata"]["name"]: d for d in rendered(stack, "pod-policies", POLICIES_CHART, "kyverno")}


def test_kyverno_is_pinned_in_every_environment_and_the_policy_chart_comes_from_the_project(stacks: dict[str, Any]) -> None:
    for env, replicas in (("dev", 1), ("prod", 3)):
        stack = stacks[env]
        kyverno = releases(stack)["kyverno"]
        assert (kyverno["repository"], kyverno["version"]) == ("https://kyverno.github.io/kyverno", "3.9.0")
        assert values_of(stack, "kyverno")["admissionController"]["replicas"] == replicas
        policies = releases(stack)["pod-policies"]
        assert policies["chart"].startswith("assets/") and any("kyverno" in d for d in policies["depends_on"])


@pytest.mark.parametrize("env", TEAM_ENVS)
def test_rendered_policy_chart_requires_team_labels(stacks: dict[str, Any], env: str) -> None:
    labels = team_policies(stacks[env])["require-team-labels"]
    assert labels["apiVersion"] == "kyverno.io/v1" and labels["kind"] == "ClusterPolicy"
    rules = {r["name"]: r for r in labels["spec"]["rules"]}
    general = rules["team-and-cost-center-labels"]
    assert general["match"]["any"][0]["resources"]["namespaces"] == ["team-analytics", "team-marketing"]
    assert general["validate"]["failureAction"] == "Enforce"
    assert general["validate"]["pattern"] == {"metadata": {"labels": {"team": "?*", "cost-center": "?*"}}}
    assert rules["marketing-labels-match"]["validate"]["pattern"]["metadata"]["labels"] == {
        "team": "marketing", "cost-center": "CC-3005"
    }


def test_dev_would_only_audit_unlabelled_pods() -> None:
    from platform_constructs.kubernetes.namespace import QuotaSpec
    from platform_constructs.kubernetes.tenancy import BACKFILL_POOL, policy_values
    from platform_constructs.teams import TeamSpec

    team = TeamSpec(name="a", cost_center="C1", quota=QuotaSpec(cpu="1", memory="1Gi", pods=1), tags={})
    documents = render_chart(POLICIES_CHART, policy_values([team], [], "Audit", BACKFILL_POOL), name="pod-policies", namespace="kyverno")
    labels = next(d for d in documents if d["metadata"]["name"] == "require-team-labels")
    assert {r["validate"]["failureAction"] for r in labels["spec"]["rules"]} == {"Audit"}


# Airflow


@pytest.mark.parametrize("env", TEAM_ENVS)
def test_every_team_gets_an_airflow_pool(stacks: dict[str, Any], env: str) -> None:
    # One pools Job per Airflow, in its namespace: a team's pool is in the Airflow that runs its DAGs.
    jobs = {job["metadata"]["namespace"]: job for job in resources(stacks[env], "kubernetes_job_v1").values()}
    config = fixture_configs()[env]
    assert set(jobs) == {"airflow", *(t.airflow_namespace for t in config.dedicated_teams)}
    for team in config.teams:
        job = jobs[team.airflow_namespace if team.airflow.dedicated else "airflow"]
        assert job["wait_for_completion"] is True
        (container,) = job["spec"]["template"]["spec"]["container"]
        assert f"airflow pools set team-{team.name} {team.pool_slots} " in container["args"][2]
        assert container["env"][0]["value_from"]["secret_key_ref"] == {"name": "airflow-metadata", "key": "connection"}
        assert container["security_context"] == {"allow_privilege_escalation": False, "capabilities": {"drop": ["ALL"]}}
        # The job reaches the database through PgBouncer, like every Airflow pod.
        assert job["spec"]["template"]["metadata"]["labels"]["tier"] == "airflow"
    # Every Airflow of every environment, teams or not, has the backfill pool.
    for stack in (stacks[env], stacks["dev"]):
        for job in resources(stack, "kubernetes_job_v1").values():
            assert "airflow pools set backfill 8 " in job["spec"]["template"]["spec"]["container"][0]["args"][2]


def test_example_dag_runs_in_the_team_namespace_with_the_team_labels() -> None:
    tree = ast.parse((REPO / "tests" / "fixtures" / "dags" / "analytics_daily_orders.py").read_text())
    team = next(t for t in fixture_configs()["prod"].teams if t.name == "analytics")
    constants = {
        node.targets[0].id: node.value.value
        for node in tree.body
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant) and isinstance(node.targets[0], ast.Name)
    }
    assert constants == {"TEAM": team.name, "COST_CENTER": team.cost_center}
    (call,) = [n for n in ast.walk(tree) if isinstance(n, ast.Call) and getattr(n.func, "id", "") == "KubernetesPodOperator"]
    keywords = {k.arg: ast.unparse(k.value) for k in call.keywords}
    assert keywords["namespace"] == "f'team-{TEAM}'"
    assert keywords["service_account_name"] == "f'{TEAM}-tasks'"
    assert keywords["labels"] == "{'team': TEAM, 'cost-center': COST_CENTER}"
    assert keywords["pool"] == "f'team-{TEAM}'"


# Removing a team


@pytest.fixture(scope="module")
def qa_without_marketing(qa_first_deploy: Path) -> dict[str, Any]:
    """The fixture's qa with its second team, marketing, removed (``qa_first_deploy`` in conftest)."""
    return environments_of(qa_first_deploy)["qa"]


def all_resources(stack: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {f"{kind}.{name}": body for kind, group in stack["resource"].items() for name, body in group.items()}


def test_removing_a_team_removes_all_of_its_resources(stacks: dict[str, Any], qa_without_marketing: dict[str, Any]) -> None:
    before, after = all_resources(stacks["qa"]), all_resources(qa_without_marketing)
    removed = set(before) - set(after)
    assert removed and set(after) <= set(before)
    assert all("marketing" in json.dumps(before[address]) for address in removed)
    assert not [a for a, body in after.items() if "marketing" in json.dumps(body)]
    assert "team-marketing" not in json.dumps(qa_without_marketing)


# Tags


def test_missing_tags_considers_the_provider_defaults() -> None:
    defaults = {"env": "prod", "team": "data-platform", "cost-center": "CC-1"}
    assert missing_tags(None, defaults) == []
    assert missing_tags({"team": "analytics"}, {"env": "prod"}) == ["cost-center"]
    # A resource tag replaces the default of the same key, so an empty one leaves the resource untagged.
    assert missing_tags({"team": ""}, defaults) == ["team"]


@background("untagged_probe", 0.05, lane="aws")
def _untagged_probe(work: Path) -> tuple[subprocess.CompletedProcess[str], Path]:
    return run_probe("untagged_role", str(work / "out")), work / "out"


@pytest.fixture(scope="module")
def untagged_probe() -> tuple[subprocess.CompletedProcess[str], Path]:
    """A stack with a role that has no cost-center tag, synthesized by ``tests/probes/untagged_role.py``."""
    return cast(tuple[subprocess.CompletedProcess[str], Path], synthesized_by("untagged_probe"))


def test_an_untagged_resource_stops_synthesis(untagged_probe: tuple[subprocess.CompletedProcess[str], Path]) -> None:
    result, outdir = untagged_probe
    findings, outcome = result.stdout.splitlines()[0], "\n".join(result.stdout.splitlines()[1:])
    assert json.loads(findings) == [
        "aws_iam_role at probe/untagged has no cost-center tag; set it on the resource or in the provider's default tags"
    ]
    assert outcome.startswith("SYNTH FAILED:"), result.stdout + result.stderr
    assert "[probe/untagged] aws_iam_role at probe/untagged has no cost-center tag" in outcome
    assert not (outdir / "stacks" / "probe" / "cdk.tf.json").exists()


@pytest.mark.parametrize("env", ("dev", "qa", "prod"))
def test_every_synthesized_resource_is_tagged(stacks: dict[str, Any], env: str) -> None:
    stack = stacks[env]
    defaults = stack["provider"]["aws"][0]["default_tags"][0]["tags"]
    for address, body in all_resources(stack).items():
        if address.startswith("aws_") and "tags" in body:
            assert missing_tags(body["tags"], defaults) == [], address

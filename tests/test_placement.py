"""Capacity and placement, cross-checked: every pod Flightdeck defines or templates selects a pool that
exists, tolerates that pool's taints, and that pool can grow; no user pod can land on the system
nodes; Karpenter's pools, node class, identity and interruption handling are what the file says.

Nothing here runs a scheduler: the pods' selectors and tolerations (from the Helm values, the
policies the project's chart renders, the Job specs) are matched against the pools (the EKS node
group, the NodePools ``charts/node-capacity`` renders, GKE's node pools) as the scheduler would.
"""

from __future__ import annotations

import ast
import json
from dataclasses import dataclass, field
from typing import Any

import pytest

from platform_constructs.aws.karpenter import INTERRUPTION_EVENTS, NODE_CAPACITY_CHART
from platform_constructs.kubernetes.tenancy import POLICIES_CHART

from .conftest import REPO, fixture_configs, parse_yaml, releases, rendered, resources, values_of

ENVIRONMENTS = ("dev", "qa", "prod")
NODE_LABELS = {"kubernetes.io/os": "linux"}
"""Labels the kubelet puts on every node, besides the pool's."""
AWS_EFFECTS = {"NO_SCHEDULE": "NoSchedule", "NO_EXECUTE": "NoExecute", "PREFER_NO_SCHEDULE": "PreferNoSchedule"}


@dataclass(frozen=True)
class Pool:
    name: str
    kind: str
    labels: dict[str, str]
    taints: list[dict[str, str]]
    can_grow: bool


@dataclass(frozen=True)
class PodShape:
    """Where a pod asks to go: its node selector and tolerations."""

    what: str
    node_selector: dict[str, str]
    tolerations: list[dict[str, Any]] = field(default_factory=list)


def tolerates(tolerations: list[dict[str, Any]], taint: dict[str, str]) -> bool:
    for t in tolerations:
        if t.get("effect") not in (None, "", taint["effect"]):
            continue
        if t.get("operator") == "Exists" and t.get("key") in (None, "", taint["key"]):
            return True
        if t.get("key") == taint["key"] and t.get("value") == taint.get("value"):
            return True
    return False


def landing(pod: PodShape, pools: list[Pool]) -> list[str]:
    """The pools the scheduler could put ``pod`` on."""
    return [
        p.name
        for p in pools
        if all(p.labels.get(k) == v for k, v in pod.node_selector.items()) and all(tolerates(pod.tolerations, t) for t in p.taints)
    ]


def eks_pools(stack: dict[str, Any]) -> list[Pool]:
    """The managed node groups, and the NodePools ``charts/node-capacity`` renders with the stack's values."""
    pools = [
        Pool(
            name=g["node_group_name"],
            kind="node group",
            labels={**NODE_LABELS, **g.get("labels", {})},
            taints=[{"key": t["key"], "value": t["value"], "effect": AWS_EFFECTS[t["effect"]]} for t in g.get("taint", [])],
            can_grow=g["scaling_config"]["max_size"] > 0,
        )
        for g in resources(stack, "aws_eks_node_group").values()
    ]
    for doc in node_capacity(stack):
        if doc["kind"] == "NodePool":
            template = doc["spec"]["template"]
            pools.append(
                Pool(
                    name=doc["metadata"]["name"],
                    kind="NodePool",
                    labels={**NODE_LABELS, **template["metadata"]["labels"]},
                    taints=template["spec"]["taints"],
                    can_grow=int(doc["spec"]["limits"]["cpu"]) >= 2,
                )
            )
    return pools


def node_capacity(stack: dict[str, Any]) -> list[dict[str, Any]]:
    return rendered(stack, "node-capacity", NODE_CAPACITY_CHART, "kube-system")


def policies(stack: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {d["metadata"]["name"]: d for d in rendered(stack, "pod-policies", POLICIES_CHART, "kyverno")}


def placed_namespaces(stack: dict[str, Any]) -> dict[str, PodShape]:
    """What the pod-placement policy makes of a pod created in each task or team namespace."""
    rules = {r["name"]: r for r in policies(stack)["pod-placement"]["spec"]["rules"]}
    shapes = {}
    for name, rule in rules.items():
        if name.endswith("-pool") and name != "backfill-pool":
            (namespace,) = rule["match"]["any"][0]["resources"]["namespaces"]
            tolerations = [
                json.loads(r["mutate"]["patchesJson6902"].split("value: ", 1)[1])
                for n, r in rules.items()
                if n.startswith(f"{namespace}-toleration-")
            ]
            shapes[namespace] = PodShape(f"pod in {namespace}", rule["mutate"]["patchStrategicMerge"]["spec"]["nodeSelector"], tolerations)
    backfill = rules["backfill-pool"]
    tolerations = [
        json.loads(r["mutate"]["patchesJson6902"].split("value: ", 1)[1]) for n, r in rules.items() if n.startswith("backfill-toleration-")
    ]
    shapes["(backfill)"] = PodShape("backfill pod", backfill["mutate"]["patchStrategicMerge"]["spec"]["nodeSelector"], tolerations)
    return shapes


def system_pods(stack: dict[str, Any]) -> list[PodShape]:
    """Airflow's own components, the add-ons and Flightdeck's Jobs: everything that belongs on the system nodes."""
    airflow = values_of(stack)
    shapes = [PodShape("Airflow components", airflow["nodeSelector"], airflow["tolerations"])]
    for release in ("external-secrets", "aws-load-balancer-controller", "karpenter"):
        if release in releases(stack):
            values = values_of(stack, release)
            shapes.append(PodShape(release, values["nodeSelector"], values["tolerations"]))
    kyverno = values_of(stack, "kyverno")
    shapes.append(PodShape("kyverno", kyverno["admissionController"]["nodeSelector"], kyverno["admissionController"]["tolerations"]))
    if "datadog" in releases(stack):
        agent = values_of(stack, "datadog")["clusterAgent"]
        shapes.append(PodShape("datadog cluster agent", agent["nodeSelector"], agent["tolerations"]))
    for job in resources(stack, "kubernetes_job_v1").values():
        spec = job["spec"]["template"]["spec"]
        shapes.append(PodShape(f"job {job['metadata']['name']}", spec["node_selector"], spec.get("toleration", [])))
    for addon in resources(stack, "aws_eks_addon").values():
        if addon.get("configuration_values") and addon["addon_name"] in ("coredns", "aws-ebs-csi-driver"):
            config = json.loads(addon["configuration_values"])
            config = config.get("controller", config)
            shapes.append(PodShape(addon["addon_name"], config["nodeSelector"], config["tolerations"]))
    return shapes


def task_template(stack: dict[str, Any]) -> dict[str, Any]:
    """The KubernetesExecutor pod template the release carries (the chart's ``podTemplate``)."""
    template: dict[str, Any] = parse_yaml(values_of(stack)["podTemplate"])
    return template


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_every_pod_lands_on_a_pool_that_exists_and_can_grow(stacks: dict[str, Any], env: str) -> None:
    check_placement(stacks[env], fixture_configs()[env])


def check_placement(stack: dict[str, Any], config: Any) -> None:
    """Every pod an EKS environment defines or templates lands on a pool that exists and can grow, as its file says
    (also run on a user's own environments by ``make verify``)."""
    pools = eks_pools(stack)
    by_name = {p.name: p for p in pools}
    assert {"system", "workers", "backfill"} <= set(by_name)
    for pod in system_pods(stack):
        assert landing(pod, pools) == ["system"], pod.what
    celery = values_of(stack)["workers"]
    assert landing(PodShape("Celery worker", celery["nodeSelector"], celery["tolerations"]), pools) == ["workers"]
    template = task_template(stack)["spec"]
    task_pod = PodShape("KubernetesExecutor task pod", template["nodeSelector"], template["tolerations"])
    assert landing(task_pod, pools) == ["workers"]
    placed = placed_namespaces(stack)
    assert set(placed) == {*config.airflow.task_namespaces, *(t.namespace for t in config.teams), "(backfill)"}
    for namespace, pod in placed.items():
        (pool,) = landing(pod, pools)
        assert by_name[pool].can_grow and by_name[pool].kind == "NodePool", namespace
    for team in config.teams:
        expected = f"team-{team.name}" if team.dedicated_nodes else "workers"
        assert landing(placed[team.namespace], pools) == [expected]
    assert landing(placed["(backfill)"], pools) == ["backfill"]


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_no_user_pod_can_land_on_the_system_nodes(stacks: dict[str, Any], env: str) -> None:
    stack = stacks[env]
    pools = {p.name: p for p in eks_pools(stack)}
    # Every pool is tainted: a pod without the toleration lands nowhere, whatever the webhook does.
    assert all(p.taints for p in pools.values())
    untolerated = PodShape("a pod with no placement", {})
    assert landing(untolerated, list(pools.values())) == []
    deny = policies(stack)["no-user-pods-on-system-nodes"]
    (rule,) = deny["spec"]["rules"]
    assert rule["validate"]["failureAction"] == "Enforce"
    assert set(rule["match"]["any"][0]["resources"]["namespaces"]) == set(placed_namespaces(stack)) - {"(backfill)"}
    conditions = " ".join(c["key"] for c in rule["validate"]["deny"]["conditions"]["any"])
    assert "key=='flightdeck.io/node-pool' && (value=='system'" in conditions and "!key && operator=='Exists'" in conditions


def dag_namespaces(text: str) -> list[str]:
    """The ``namespace=`` of every operator in a DAG file (f-strings resolved from its module constants)."""
    tree = ast.parse(text)
    constants = {
        target.id: node.value.value
        for node in tree.body
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant)
        for target in node.targets
        if isinstance(target, ast.Name)
    }
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.keyword) and node.arg == "namespace":
            value = node.value
            if isinstance(value, ast.Constant):
                found.append(str(value.value))
            elif isinstance(value, ast.JoinedStr):
                found.append(
                    "".join(
                        str(part.value) if isinstance(part, ast.Constant) else str(constants[part.value.id])  # type: ignore[attr-defined]
                        for part in value.values
                    )
                )
    return found


DAGS = REPO / "tests" / "fixtures" / "dags"
"""Copies of ``examples/dags`` (``make verify`` checks the shipped ones against your environments)."""


def test_example_dags_run_in_namespaces_the_platform_places(stacks: dict[str, Any]) -> None:
    placed = placed_namespaces(stacks["prod"])
    dags = sorted(DAGS.glob("*.py"))
    assert len(dags) >= 2
    for dag in dags:
        namespaces = dag_namespaces(dag.read_text())
        assert namespaces and set(namespaces) <= set(placed), f"{dag.name}: {namespaces}"


# Karpenter


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_node_pools_follow_the_file(stacks: dict[str, Any], env: str) -> None:
    config = fixture_configs()[env]
    docs = {(d["kind"], d["metadata"]["name"]): d for d in node_capacity(stacks[env])}
    expected_capacity = {"dev": ["spot"], "qa": ["spot", "on-demand"], "prod": ["on-demand"]}[env]
    for name, capacity in (("workers", config.cluster.node_pools.workers), ("backfill", config.cluster.node_pools.backfill)):
        spec = docs[("NodePool", name)]["spec"]
        requirements = {r["key"]: r["values"] for r in spec["template"]["spec"]["requirements"]}
        assert requirements["karpenter.k8s.aws/instance-family"] == capacity.instance_families
        assert spec["limits"] == {"cpu": str(capacity.cpu_limit), "memory": f"{capacity.memory_limit_gib}Gi"}
        if name == "workers":
            assert requirements["karpenter.sh/capacity-type"] == expected_capacity
        # Never replaced for age, consolidated when empty or under-used.
        assert spec["template"]["spec"]["expireAfter"] == "Never"
        assert spec["disruption"]["consolidationPolicy"] == "WhenEmptyOrUnderutilized"
        assert requirements["karpenter.k8s.aws/instance-cpu"] == ["1"], "at least 2 vCPUs, so the CPU limit bounds the node count"


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_node_classes_are_private_imdsv2_encrypted_and_pinned(stacks: dict[str, Any], env: str) -> None:
    stack = stacks[env]
    (key,) = resources(stack, "aws_kms_key")
    (role,) = [k for k, r in resources(stack, "aws_iam_role").items() if r["name"].endswith("-karpenter-node")]
    discovery = {"karpenter.sh/discovery": f"flightdeck-{env}"}
    private = [s for s in resources(stack, "aws_subnet").values() if "private" in s["tags"]["Name"]]
    assert private and all(s["tags"]["karpenter.sh/discovery"] == f"flightdeck-{env}" for s in private)
    assert not [s for s in resources(stack, "aws_subnet").values() if "private" not in s["tags"]["Name"] and "karpenter.sh/discovery" in s["tags"]]
    (sg_tag,) = resources(stack, "aws_ec2_tag").values()
    assert (sg_tag["key"], sg_tag["value"]) == ("karpenter.sh/discovery", f"flightdeck-{env}")
    assert "cluster_security_group_id" in sg_tag["resource_id"]
    for doc in node_capacity(stack):
        if doc["kind"] != "EC2NodeClass":
            continue
        spec = doc["spec"]
        assert spec["role"] == f"${{aws_iam_role.{role}.name}}"
        assert spec["amiSelectorTerms"] == [{"alias": fixture_configs()[env].cluster.node_image}]
        assert spec["subnetSelectorTerms"] == spec["securityGroupSelectorTerms"] == [{"tags": discovery}]
        assert spec["metadataOptions"]["httpTokens"] == "required" and spec["metadataOptions"]["httpPutResponseHopLimit"] == 1
        (device,) = spec["blockDeviceMappings"]
        assert device["ebs"]["encrypted"] is True and device["ebs"]["volumeType"] == "gp3"
        assert device["ebs"]["kmsKeyID"] == f"${{aws_kms_key.{key}.arn}}"
        assert spec["tags"]["env"] == env and spec["tags"]["cost-center"]


def test_a_team_pool_carries_the_teams_tags(stacks: dict[str, Any]) -> None:
    docs = {(d["kind"], d["metadata"]["name"]): d for d in node_capacity(stacks["prod"])}
    nodes = docs[("EC2NodeClass", "team-analytics")]["spec"]["tags"]
    assert (nodes["team"], nodes["cost-center"]) == ("analytics", "CC-2001")
    pool = docs[("NodePool", "team-analytics")]["spec"]
    assert pool["template"]["spec"]["taints"] == [{"key": "team", "value": "analytics", "effect": "NoSchedule"}]
    assert pool["limits"] == {"cpu": "40", "memory": "320Gi"}
    assert ("NodePool", "team-marketing") not in docs, "only teams that ask get a pool"
    assert not [g for g in resources(stacks["prod"], "aws_eks_node_group").values() if g["node_group_name"] != "system"]


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_karpenter_drains_ahead_of_interruptions(stacks: dict[str, Any], env: str) -> None:
    stack = stacks[env]
    (queue_id, queue) = next(iter(resources(stack, "aws_sqs_queue").items()))
    assert queue["name"] == f"flightdeck-{env}" and queue["message_retention_seconds"] == 300 and queue["sqs_managed_sse_enabled"]
    (queue_policy,) = resources(stack, "aws_sqs_queue_policy").values()
    statements = {s["Sid"]: s for s in json.loads(queue_policy["policy"])["Statement"]}
    assert statements["EventBridgeDelivers"]["Principal"] == {"Service": ["events.amazonaws.com", "sqs.amazonaws.com"]}
    assert statements["DenyHTTP"]["Effect"] == "Deny"
    rules = {
        r["name"].removeprefix(f"flightdeck-{env}-"): (k, json.loads(r["event_pattern"]))
        for k, r in resources(stack, "aws_cloudwatch_event_rule").items()
    }
    assert {name: (p["source"], p["detail-type"]) for name, (_, p) in rules.items()} == {
        name: ([source], [detail]) for name, (source, detail) in INTERRUPTION_EVENTS.items()
    }
    targets = {t["rule"]: t["arn"] for t in resources(stack, "aws_cloudwatch_event_target").values()}
    for logical, _ in rules.values():
        assert targets[f"${{aws_cloudwatch_event_rule.{logical}.name}}"] == f"${{aws_sqs_queue.{queue_id}.arn}}"
    controller = values_of(stack, "karpenter")
    assert controller["settings"] == {"clusterName": f"flightdeck-{env}", "interruptionQueue": queue["name"]}


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_karpenters_identity_is_scoped_to_this_cluster(stacks: dict[str, Any], env: str) -> None:
    stack = stacks[env]
    (association,) = [a for a in resources(stack, "aws_eks_pod_identity_association").values() if a["service_account"] == "karpenter"]
    assert association["namespace"] == "kube-system"
    (policy,) = [p for p in resources(stack, "aws_iam_role_policy").values() if p["name"] == "karpenter"]
    statements = {s["Sid"]: s for s in json.loads(policy["policy"])["Statement"]}
    owned = {f"aws:ResourceTag/kubernetes.io/cluster/flightdeck-{env}": "owned"}
    assert statements["AllowScopedDeletion"]["Condition"]["StringEquals"] == owned
    assert statements["AllowScopedEC2InstanceActionsWithTags"]["Condition"]["StringEquals"] == {
        f"aws:RequestTag/kubernetes.io/cluster/flightdeck-{env}": "owned",
        "aws:RequestTag/eks:eks-cluster-name": f"flightdeck-{env}",
    }
    (node_role,) = [k for k, r in resources(stack, "aws_iam_role").items() if r["name"].endswith("-karpenter-node")]
    assert statements["AllowPassingInstanceRole"]["Resource"] == [f"${{aws_iam_role.{node_role}.arn}}"]
    assert statements["AllowPassingInstanceRole"]["Condition"] == {"StringEquals": {"iam:PassedToService": "ec2.amazonaws.com"}}
    assert statements["AllowRegionalReadActions"]["Condition"] == {"StringEquals": {"aws:RequestedRegion": "eu-west-1"}}
    assert statements["AllowNodeVolumeEncryption"]["Condition"] == {"StringEquals": {"kms:ViaService": "ec2.eu-west-1.amazonaws.com"}}
    # Nothing unscoped that writes: every write action names this cluster's resources or carries a condition.
    for sid, statement in statements.items():
        if statement["Resource"] == ["*"] and not sid.startswith(("AllowRegionalRead", "AllowPricing", "AllowUnscopedInstanceProfileList")):
            pytest.fail(f"{sid} is unscoped")
    (entry,) = [e for e in resources(stack, "aws_eks_access_entry").values() if e.get("type") == "EC2_LINUX"]
    assert entry["principal_arn"] == f"${{aws_iam_role.{node_role}.arn}}"


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_task_pods_keep_their_node_until_they_finish(stacks: dict[str, Any], env: str) -> None:
    stack = stacks[env]
    assert task_template(stack)["metadata"]["annotations"] == {"karpenter.sh/do-not-disrupt": "true"}
    rules = {r["name"]: r for r in policies(stack)["pod-placement"]["spec"]["rules"]}
    annotate = rules["do-not-disrupt-running-tasks"]
    assert set(annotate["match"]["any"][0]["resources"]["namespaces"]) == set(placed_namespaces(stack)) - {"(backfill)"}
    assert annotate["mutate"]["patchStrategicMerge"]["metadata"]["annotations"] == {"+(karpenter.sh/do-not-disrupt)": "true"}


# Kubernetes Jobs


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_launchers_may_run_jobs_and_jobs_clean_up_after_themselves(stacks: dict[str, Any], env: str) -> None:
    stack = stacks[env]
    roles = [r for r in resources(stack, "kubernetes_role_v1").values() if r["metadata"]["name"] == "airflow-pod-launcher"]
    assert roles
    for role in roles:
        rules = {(r["api_groups"][0], tuple(r["resources"])): set(r["verbs"]) for r in role["rule"]}
        assert rules[("batch", ("jobs",))] == {"create", "get", "list", "watch", "patch", "delete"}
        assert rules[("batch", ("jobs/status",))] == {"get", "watch"}
        assert rules[("", ("pods",))] >= {"create", "delete", "get", "list", "watch"}
    assert values_of(stack)["allowJobLaunching"] is True
    ttl = {r["name"]: r for r in policies(stack)["pod-placement"]["spec"]["rules"]}["job-ttl"]
    assert ttl["match"]["any"][0]["resources"]["kinds"] == ["Job"]
    assert ttl["mutate"]["patchStrategicMerge"]["spec"] == {"+(ttlSecondsAfterFinished)": 86400}


def test_the_job_example_is_a_job_in_a_team_namespace() -> None:
    text = (DAGS / "marketing_weekly_export.py").read_text()
    tree = ast.parse(text)
    (call,) = [n for n in ast.walk(tree) if isinstance(n, ast.Call) and getattr(n.func, "id", "") == "KubernetesJobOperator"]
    keywords = {kw.arg for kw in call.keywords}
    assert {"namespace", "service_account_name", "labels", "ttl_seconds_after_finished", "backoff_limit", "wait_until_job_complete"} <= keywords
    assert "from airflow.providers.cncf.kubernetes.operators.job import KubernetesJobOperator" in text


# The system pool's size


INSTANCE_SIZES = {
    # type: (vCPUs, GiB, the most pods the VPC CNI gives it)
    "m6i.large": (2, 8, 29),
    "m6i.xlarge": (4, 16, 58),
    "m6i.2xlarge": (8, 32, 58),
    "m6i.4xlarge": (16, 64, 234),
}
"""The system pool's instance types, from EC2's instance type list; add a type here before using it."""

EKS_DAEMONSETS = {"aws-node": (25, 40), "kube-proxy": (100, 0), "eks-pod-identity-agent": (25, 0), "ebs-csi-node": (30, 120)}
"""(mCPU, MiB) the EKS-managed DaemonSets request on every node (EKS's defaults; Flightdeck sets none)."""
EBS_CSI_CONTROLLER = (2, 60, 240)
"""(replicas, mCPU, MiB) of the EBS CSI controller with its sidecars (EKS's defaults)."""


def millicores(value: str) -> int:
    return int(value[:-1]) if value.endswith("m") else int(float(value) * 1000)


def mebibytes(value: str) -> int:
    for unit, factor in (("Gi", 1024), ("Mi", 1), ("Ki", 1 / 1024)):
        if value.endswith(unit):
            return int(float(value[: -len(unit)]) * factor)
    return int(value) // (1024 * 1024)


def allocatable(instance_type: str) -> tuple[int, int]:
    """What the kubelet leaves for pods on one node of the EKS AL2023 AMI (its kube-reserved formula)."""
    assert instance_type in INSTANCE_SIZES, f"{instance_type}: add its size to INSTANCE_SIZES"
    cpus, gib, max_pods = INSTANCE_SIZES[instance_type]
    reserved_cpu = 60 + (10 if cpus > 1 else 0) + 5 * min(max(cpus - 2, 0), 2) + int(2.5 * max(cpus - 4, 0))
    # The OS and kernel keep about 5% of the memory; kube-reserved is 255 MiB + 11 MiB a pod; eviction 100 MiB.
    memory = int(gib * 1024 * 0.95) - (255 + 11 * max_pods) - 100
    return cpus * 1000 - reserved_cpu, memory


def requested(resources: dict[str, Any] | None, replicas: int = 1) -> tuple[int, int]:
    asked = (resources or {}).get("requests", {})
    return replicas * millicores(asked.get("cpu", "0")), replicas * mebibytes(asked.get("memory", "0"))


def total(*parts: tuple[int, int]) -> tuple[int, int]:
    return sum(c for c, _ in parts), sum(m for _, m in parts)


def system_requests(stack: dict[str, Any]) -> dict[str, tuple[int, int]]:
    """What every pod on the system nodes requests, by what it is (Deployments; per-node DaemonSets separately).
    Every Airflow counts: a team's own Airflow's components run on the system nodes too."""
    components = {"scheduler": "scheduler", "api server": "apiServer", "triggerer": "triggerer", "dag processor": "dagProcessor"}
    found: dict[str, tuple[int, int]] = {}
    for release in resources(stack, "helm_release").values():
        if release["name"] != "airflow":
            continue
        airflow = parse_yaml(release["values"][0])
        for name, key in {**components, "pgbouncer": "pgbouncer"}.items():
            found[f"{release['namespace']} {name}"] = requested(airflow[key]["resources"], airflow[key]["replicas"])
    eso = values_of(stack, "external-secrets")
    found["external secrets"] = total(*(requested(part["resources"]) for part in (eso, eso["webhook"], eso["certController"])))
    kyverno = values_of(stack, "kyverno")
    admission = requested(kyverno["admissionController"]["container"]["resources"], kyverno["admissionController"]["replicas"])
    controllers = ("backgroundController", "cleanupController", "reportsController")
    found["kyverno"] = total(admission, *(requested(kyverno[c]["resources"], kyverno[c]["replicas"]) for c in controllers))
    if "aws-load-balancer-controller" in releases(stack):
        lbc = values_of(stack, "aws-load-balancer-controller")
        found["load balancer controller"] = requested(lbc["resources"], lbc["replicaCount"])
    if "karpenter" in releases(stack):
        karpenter = values_of(stack, "karpenter")
        found["karpenter"] = requested(karpenter["controller"]["resources"], karpenter["replicas"])
    if "datadog" in releases(stack):
        agent = values_of(stack, "datadog")["clusterAgent"]
        found["datadog cluster agent"] = requested(agent["resources"], agent["replicas"])
    for addon in resources(stack, "aws_eks_addon").values():
        if addon["addon_name"] == "coredns":
            config = json.loads(addon["configuration_values"])
            found["coredns"] = requested(config["resources"], config["replicaCount"])
    replicas, cpu, memory = EBS_CSI_CONTROLLER
    found["ebs csi controller"] = (replicas * cpu, replicas * memory)
    return found


def per_node(stack: dict[str, Any]) -> tuple[int, int]:
    cpu = sum(c for c, _ in EKS_DAEMONSETS.values())
    memory = sum(m for _, m in EKS_DAEMONSETS.values())
    if "datadog" in releases(stack):
        for container in values_of(stack, "datadog")["agents"]["containers"].values():
            c, m = requested(container["resources"])
            cpu, memory = cpu + c, memory + m
    return cpu, memory


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_the_system_pool_at_its_minimum_holds_airflow_and_the_add_ons_with_headroom(stacks: dict[str, Any], env: str) -> None:
    check_system_pool(stacks[env], fixture_configs()[env])


def check_system_pool(stack: dict[str, Any], config: Any) -> None:
    """The system node group at its minimum holds every Airflow's components and the add-ons, with headroom
    (EKS; also run on a user's own environments by ``make verify``)."""
    env = config.name
    group = config.cluster.node_groups.system
    nodes = group.min_size
    node_cpu, node_memory = allocatable(min(group.instance_types, key=lambda t: INSTANCE_SIZES[t][0]))
    daemon_cpu, daemon_memory = per_node(stack)
    pods = system_requests(stack)
    cpu = sum(c for c, _ in pods.values())
    memory = sum(m for _, m in pods.values())
    free_cpu = nodes * (node_cpu - daemon_cpu)
    free_memory = nodes * (node_memory - daemon_memory)
    # Headroom: a rolling update starts new pods before it stops the old ones (20%; dev runs one
    # replica of everything, so one pod at a time: 10%).
    headroom = 0.9 if config.tier.value == "dev" else 0.8
    assert cpu <= headroom * free_cpu, f"{env}: {cpu}m requested on {free_cpu}m ({pods})"
    assert memory <= headroom * free_memory, f"{env}: {memory}Mi requested on {free_memory}Mi ({pods})"
    # No single pod is larger than a node can hold.
    largest = max(millicores(values_of(stack)[key]["resources"]["requests"]["cpu"]) for key in ("scheduler", "apiServer", "dagProcessor"))
    assert largest <= node_cpu - daemon_cpu


def test_the_allocatable_model_matches_what_eks_publishes() -> None:
    # EKS's AL2023 AMI on m6i.xlarge reports 3920m CPU allocatable (4 vCPUs less 80m kube-reserved).
    assert allocatable("m6i.xlarge")[0] == 3920
    assert allocatable("m6i.large")[0] == 1930
    with pytest.raises(AssertionError, match="add its size"):
        allocatable("t3.micro")

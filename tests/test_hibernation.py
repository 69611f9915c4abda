"""Hibernation: dev's Airflow sleeps on a schedule and wakes with the replicas it had; the CronJobs
can change nothing but Deployments' scale in Airflow's namespace; qa and prod never sleep."""

from __future__ import annotations

import sys
import types
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from platform_constructs.airflow.hibernation import AWAKE_REPLICAS, RULES, SCRIPT, SERVICE_ACCOUNT

from .conftest import fixture_configs, resources


@dataclass
class FakeDeployment:
    name: str
    replicas: int
    annotations: dict[str, str] = field(default_factory=dict)


class FakeApps:
    """The two AppsV1Api calls the script makes, on an in-memory namespace."""

    def __init__(self, deployments: list[FakeDeployment]) -> None:
        self.deployments = {d.name: d for d in deployments}

    def list_namespaced_deployment(self, namespace: str) -> Any:
        items = [
            types.SimpleNamespace(
                metadata=types.SimpleNamespace(name=d.name, annotations=dict(d.annotations) or None),
                spec=types.SimpleNamespace(replicas=d.replicas),
            )
            for d in self.deployments.values()
        ]
        return types.SimpleNamespace(items=items)

    def patch_namespaced_deployment(self, name: str, namespace: str, body: dict[str, Any]) -> None:
        self.deployments[name].annotations.update(body["metadata"]["annotations"])

    def patch_namespaced_deployment_scale(self, name: str, namespace: str, body: dict[str, Any]) -> None:
        self.deployments[name].replicas = body["spec"]["replicas"]


@pytest.fixture
def cluster(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeApps]:
    apps = FakeApps([FakeDeployment("airflow-scheduler", 1), FakeDeployment("airflow-api-server", 2), FakeDeployment("idle", 0)])
    client = types.ModuleType("kubernetes.client")
    client.AppsV1Api = lambda: apps  # type: ignore[attr-defined]
    config = types.ModuleType("kubernetes.config")
    config.load_incluster_config = lambda: None  # type: ignore[attr-defined]
    package = types.ModuleType("kubernetes")
    package.client, package.config = client, config  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "kubernetes", package)
    monkeypatch.setitem(sys.modules, "kubernetes.client", client)
    monkeypatch.setitem(sys.modules, "kubernetes.config", config)
    yield apps


def run(action: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "argv", ["-c", "airflow", action])
    exec(compile(SCRIPT, "hibernation", "exec"), {"__name__": "__main__"})


def test_sleep_then_wake_restores_every_deployment(cluster: FakeApps, monkeypatch: pytest.MonkeyPatch) -> None:
    run("sleep", monkeypatch)
    assert {d.name: d.replicas for d in cluster.deployments.values()} == {"airflow-scheduler": 0, "airflow-api-server": 0, "idle": 0}
    assert cluster.deployments["airflow-api-server"].annotations == {AWAKE_REPLICAS: "2"}
    run("sleep", monkeypatch)  # a second sleep keeps what the first recorded
    run("wake", monkeypatch)
    assert {d.name: d.replicas for d in cluster.deployments.values()} == {"airflow-scheduler": 1, "airflow-api-server": 2, "idle": 0}


def test_dev_sleeps_nights_and_weekends_and_qa_and_prod_never(stacks: dict[str, Any]) -> None:
    dev = {c["metadata"]["name"]: c for c in resources(stacks["dev"], "kubernetes_cron_job_v1").values()}
    assert dev["airflow-sleep"]["spec"]["schedule"] == "0 20 * * 1-5"
    assert dev["airflow-wake"]["spec"]["schedule"] == "0 7 * * 1-5"
    assert fixture_configs()["dev"].airflow.hibernation.enabled
    for env in ("qa", "prod"):
        assert resources(stacks[env], "kubernetes_cron_job_v1") == {}
    for job in dev.values():
        spec = job["spec"]["job_template"]["spec"]["template"]["spec"]
        assert spec["service_account_name"] == SERVICE_ACCOUNT
        assert spec["node_selector"] == {"flightdeck.io/node-pool": "system"}
        (container,) = spec["container"]
        assert container["args"][:3] == ["python", "-c", SCRIPT] and container["image"].startswith("apache/airflow:")
        assert job["metadata"]["namespace"] == "airflow"


def test_the_hibernation_role_can_only_scale_airflows_deployments(stacks: dict[str, Any]) -> None:
    (role,) = [r for r in resources(stacks["dev"], "kubernetes_role_v1").values() if r["metadata"]["name"] == SERVICE_ACCOUNT]
    assert role["metadata"]["namespace"] == "airflow"
    assert [(r["api_groups"], r["resources"], r["verbs"]) for r in role["rule"]] == [
        ([group], list(res), list(verbs)) for group, res, verbs in RULES
    ]
    assert {v for r in role["rule"] for v in r["verbs"]} <= {"get", "list", "patch", "update"}, "nothing deleted or created"

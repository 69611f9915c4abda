"""The Kubernetes constructs on their own (``platform_constructs/kubernetes``): each refusal, with its whole message.

Props refuse what their construct cannot build as they are made, before any binding loads (a network
policy's peer, the teams' identities and launchers); the cluster add-ons' order and values are
refused by ``ClusterAddons`` as it is built, in a stack of its own.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pytest
from cdktf import App, TerraformStack

from platform_constructs.handles import HelmChart, NetworkHandle, ScrapeTarget, StatsdSink, WorkloadIdentity
from platform_constructs.kubernetes.addons import ClusterAddons, ClusterAddonsProps, install_order, with_scrape_annotations
from platform_constructs.kubernetes.namespace import DefaultResources, Peer, QuotaSpec
from platform_constructs.kubernetes.tenancy import TeamsProps
from platform_constructs.teams import TeamSpec
from platform_constructs.workloads import SHARED_AIRFLOW, Workload

from .refusal import Refusals, refused_with

TARGET = ScrapeTarget(check="karpenter", container="controller", namespace="karpenter", pod_labels={"app": "karpenter"}, port=8080)
AGENT = StatsdSink(
    host="agent.monitoring.svc.cluster.local",
    port=8125,
    namespace="monitoring",
    pod_labels={"app": "agent"},
    check_annotation="ad.datadoghq.com/{container}.checks",
)
"""A monitoring agent that runs the checks its annotation names, so it scrapes every target."""
ANALYTICS = TeamSpec(name="analytics", cost_center="cc-1234", quota=QuotaSpec(cpu="4", memory="8Gi", pods=20), tags={"team": "analytics"})
LAUNCHERS = tuple(SHARED_AIRFLOW.workload(component) for component in ("scheduler", "worker", "triggerer"))


def chart(name: str, *after: str, **extra: Any) -> HelmChart:
    values = extra.pop("values", {})
    return HelmChart(name=name, chart=name, repository="https://charts.example", version="1.0.0", namespace=name, values=values, after=after, **extra)


def addons(*charts: HelmChart, metrics: StatsdSink | None = None) -> ClusterAddons:
    """The add-ons layer, built in a stack of its own."""
    return ClusterAddons(TerraformStack(App(), "t"), "addons", ClusterAddonsProps(addons=charts, metrics=metrics))


def teams(identities: Mapping[str, WorkloadIdentity] | None = None, launchers: Mapping[str, Sequence[Workload]] | None = None) -> TeamsProps:
    """The analytics team, with its cloud identity and the shared Airflow's launchers unless told otherwise."""
    return TeamsProps(
        teams=[ANALYTICS],
        identities={"analytics": WorkloadIdentity(workload=ANALYTICS.workload, principal="team-analytics")} if identities is None else identities,
        launchers={"analytics": LAUNCHERS} if launchers is None else launchers,
        default_resources=DefaultResources(cpu="250m", memory="512Mi"),
        network=NetworkHandle(vpc_cidr="10.0.0.0/16", database_cidrs=("10.0.8.0/24",)),
    )


REFUSED: Refusals = {
    "an add-on listed twice": (
        lambda: addons(chart("kyverno"), chart("kyverno")),
        "cluster add-ons are listed twice: ['kyverno']",
    ),
    "an add-on after one that is not installed": (
        lambda: addons(chart("keda", "karpenter")),
        "cluster add-on keda needs karpenter, which is not installed",
    ),
    "add-ons that depend on each other in a circle": (
        lambda: addons(chart("a", "b"), chart("b", "c"), chart("c", "a")),
        "cluster add-ons depend on each other in a circle: a -> b -> c -> a",
    ),
    "an add-on's pod annotations that are no mapping": (
        lambda: addons(chart("karpenter", values={"podAnnotations": "own"}, metrics=TARGET), metrics=AGENT),
        "add-on karpenter: values.podAnnotations is not a mapping of annotations",
    ),
    "a peer that is an address range and pods": (
        lambda: Peer(namespace="airflow", pod_labels={"component": "pgbouncer"}, cidr="10.0.0.0/16"),
        "a peer is an address range or pods, not both (cidr 10.0.0.0/16 with pods airflow/{'component': 'pgbouncer'})",
    ),
    "a peer that names nothing": (
        lambda: Peer(),
        "a peer names an address range, pods or a namespace",
    ),
    "a peer carving ranges out of no range": (
        lambda: Peer(namespace="airflow", except_cidrs=("169.254.0.0/16",)),
        "except_cidrs carve out of a cidr; this peer has none",
    ),
    "a team without its cloud identity": (
        lambda: teams(identities={}),
        "no cloud identity for teams ['analytics']",
    ),
    "a team whose pods no Airflow launches": (
        lambda: teams(launchers={"analytics": ()}),
        "no Airflow launches the pods of teams ['analytics']",
    ),
}


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_kubernetes_constructs_refuse_what_they_cannot_build(case: str) -> None:
    make, message = REFUSED[case]
    assert refused_with(make) == message


def test_props_within_their_limits_are_accepted() -> None:
    built = addons(chart("karpenter", "kyverno", values={"podAnnotations": {"own": "yes"}}, metrics=TARGET), chart("kyverno"), metrics=AGENT)
    assert list(built.releases) == ["kyverno", "karpenter"] and built.scraped == [TARGET]
    Peer(cidr="10.0.0.0/16")
    Peer(namespace="airflow")
    Peer(namespace="kube-system", pod_labels={"k8s-app": "kube-dns"})
    assert Peer.anywhere().except_cidrs == ("169.254.0.0/16",)
    teams()


def test_each_add_on_comes_after_those_it_names() -> None:
    ordered = install_order([chart("karpenter", "kyverno"), chart("kyverno"), chart("keda", "karpenter")])
    assert [a.name for a in ordered] == ["kyverno", "karpenter", "keda"]


def test_scrape_annotations_join_the_charts_own() -> None:
    merged = with_scrape_annotations(chart("karpenter", values={"podAnnotations": {"own": "yes"}}, metrics=TARGET), AGENT)
    assert merged["podAnnotations"] == {"own": "yes", **AGENT.scrape_annotations(TARGET)}
    assert list(AGENT.scrape_annotations(TARGET)) == ["ad.datadoghq.com/controller.checks"]

"""The add-ons layer's own rules (``platform_constructs/kubernetes/addons.py``), without synthesis."""

from __future__ import annotations

from typing import Any

import pytest

from platform_constructs.handles import HelmChart, ScrapeTarget
from platform_constructs.kubernetes.addons import install_order, with_scrape_annotations


def chart(name: str, *after: str, **extra: Any) -> HelmChart:
    return HelmChart(name=name, chart=name, repository=None, version="1.0.0", namespace=name, values=extra.pop("values", {}), after=after, **extra)


def test_each_add_on_comes_after_those_it_names() -> None:
    ordered = install_order([chart("karpenter", "kyverno"), chart("kyverno"), chart("keda", "karpenter")])
    assert [a.name for a in ordered] == ["kyverno", "karpenter", "keda"]


@pytest.mark.parametrize(
    ("addons", "message"),
    [
        ([chart("kyverno"), chart("kyverno")], r"cluster add-ons are listed twice: \['kyverno'\]"),
        ([chart("keda", "karpenter")], "cluster add-on keda needs karpenter, which is not installed"),
        ([chart("a", "b"), chart("b", "c"), chart("c", "a")], "cluster add-ons depend on each other in a circle: a -> b -> c -> a"),
    ],
)
def test_a_wrong_dependency_is_refused_with_the_add_ons_named(addons: list[HelmChart], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        install_order(addons)


class Agent:
    """A monitoring agent that annotates every scrape target."""

    def scrape_annotations(self, target: ScrapeTarget) -> dict[str, str]:
        return {"ad.datadoghq.com/controller.checks": "{}"}


def test_scrape_annotations_join_the_charts_own_and_refuse_a_value_that_is_not_a_mapping() -> None:
    target = ScrapeTarget(check="karpenter", container="controller", namespace="karpenter", pod_labels={"app": "karpenter"}, port=8080)
    merged = with_scrape_annotations(chart("karpenter", values={"podAnnotations": {"own": "yes"}}, metrics=target), Agent())  # type: ignore[arg-type]
    assert merged["podAnnotations"] == {"own": "yes", "ad.datadoghq.com/controller.checks": "{}"}
    with pytest.raises(ValueError, match=r"add-on karpenter: values.podAnnotations is not a mapping of annotations"):
        with_scrape_annotations(chart("karpenter", values={"podAnnotations": "own"}, metrics=target), Agent())  # type: ignore[arg-type]

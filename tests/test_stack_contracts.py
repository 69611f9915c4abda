"""The stack layer's own refusals: what ``main.py`` never asks of it, refused if anything else does.

``main.py`` pairs each cluster stack with its platform stack, and never makes a platform stack for a
cloud without one; these guard the stack classes and seams against another caller (a test, a probe,
a new entry point) that gets the pairing wrong, and the cluster providers against a handle that says
neither how to reach the cluster's API nor where its kubeconfig is.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from cdktf import App, TerraformStack

from flightdeck.config import AwsEnvironment, ExistingEnvironment, GcpEnvironment

from .conftest import configs_in, fixture_configs

FIXTURES = Path(__file__).parent / "fixtures"


def _first(configs: dict[str, Any], kind: type) -> Any:
    return next(config for config in configs.values() if isinstance(config, kind))


def test_a_platform_stack_for_a_cloud_without_one_is_refused() -> None:
    from stacks.environment_stack import PlatformStack

    config = _first(configs_in(FIXTURES / "existing"), ExistingEnvironment)
    with pytest.raises(ValueError) as refused:
        PlatformStack(App(), config, None)
    assert str(refused.value) == f"{config.source}: cloud existing has no platform stack"


def test_an_aws_cluster_stack_without_its_platform_stack_is_refused() -> None:
    from stacks import aws

    config = _first(fixture_configs(), AwsEnvironment)
    with pytest.raises(ValueError) as refused:
        aws.cluster(TerraformStack(App(), "cluster"), config, None)
    assert str(refused.value) == f"{config.source}: the cluster stack of an AWS environment needs its platform stack"


def test_a_gcp_cluster_stack_without_its_platform_stack_is_refused() -> None:
    from stacks import gcp

    config = _first(configs_in(FIXTURES / "gke"), GcpEnvironment)
    with pytest.raises(ValueError) as refused:
        gcp.cluster(TerraformStack(App(), "cluster"), config, None)
    assert str(refused.value) == f"{config.source}: the cluster stack of a GCP environment needs its platform stack"


def test_cluster_providers_need_a_kubeconfig_or_an_endpoint_with_credentials() -> None:
    from platform_constructs.handles import ClusterHandle
    from stacks.providers import ClusterProvidersProps

    # Refused as the props are made, before any binding loads.
    with pytest.raises(ValueError) as refused:
        ClusterProvidersProps(cluster=ClusterHandle(name="c", node_pools=(), endpoint="https://c.example"))
    assert str(refused.value) == "cluster c has neither a kubeconfig nor an endpoint and credentials"
    # What a handle that says either builds is checked on synthesized stacks, where the Kubernetes
    # binding is loaded already (building it here would load it into the test process, about 2.5 s):
    # a kubeconfig in tests/test_existing_cluster.py, an endpoint with short-lived credentials on every
    # EKS cluster stack in tests/test_airflow.py.


def test_a_backend_for_a_configuration_of_no_known_cloud_is_refused() -> None:
    from stacks.backends import environment_backend

    class Elsewhere:
        """Not one of the configuration's clouds (the union is closed; this is what a new one would meet)."""

    with pytest.raises(TypeError) as refused:
        environment_backend(TerraformStack(App(), "platform"), Elsewhere(), "platform")  # type: ignore[arg-type]
    assert str(refused.value) == "no backend for Elsewhere"

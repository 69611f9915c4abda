"""The existing-cluster construct on its own (``platform_constructs/existing``): each refusal, with its whole message.

``ExistingCluster`` creates no cloud resources, only the reader of the owners' secrets; its props
refuse what it cannot build as they are made. What accepted props build is checked on the synthesized
existing-cluster fixture (``tests/test_existing_cluster.py``), in the synthesis process that has the
Kubernetes binding loaded already: building it here would load that binding into the test process
for one test (about 1.5 s).
"""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from platform_constructs.existing.platform import ExistingClusterProps, ExistingDatabaseProps

from .refusal import Refusals, refused_with


def existing_cluster(secrets_namespace: str = "flightdeck-secrets", store_namespaces: Sequence[str] = ("airflow",)) -> ExistingClusterProps:
    return ExistingClusterProps(
        kubeconfig_path="~/.kube/config",
        context="kind-flightdeck",
        secrets_namespace=secrets_namespace,
        readable_secrets=("dag-repository",),
        store_namespaces=store_namespaces,
        database=ExistingDatabaseProps(
            host="postgres.db.svc.cluster.local", port=5432, name="airflow", secret="airflow-database", cidrs=("10.96.0.0/12",)
        ),
        nodes_cidr="172.18.0.0/16",
        pods_cidr="10.244.0.0/16",
        ingress_class="nginx",
    )


REFUSED: Refusals = {
    "the owners' secrets in a namespace Flightdeck manages": (
        lambda: existing_cluster(secrets_namespace="airflow", store_namespaces=("airflow", "datadog")),
        "secrets_namespace 'airflow' is also a namespace Flightdeck manages; keep the owners' secrets apart",
    ),
}


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_existing_constructs_refuse_what_they_cannot_build(case: str) -> None:
    make, message = REFUSED[case]
    assert refused_with(make) == message


def test_props_within_their_limits_are_accepted() -> None:
    # The owners' secrets in a namespace of their own, beside two namespaces with a store: accepted as made.
    props = existing_cluster(secrets_namespace="flightdeck-secrets", store_namespaces=("airflow", "datadog"))
    assert (props.secrets_namespace, tuple(props.store_namespaces)) == ("flightdeck-secrets", ("airflow", "datadog"))

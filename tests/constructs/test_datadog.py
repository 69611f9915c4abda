"""The Datadog constructs on their own (``platform_constructs/datadog``): each refusal, with its whole message.

Props refuse what their construct cannot build as they are made, before any binding loads (an agent
for a cluster of no nodes); a dashboard refuses what it cannot show as its JSON is built, before
``DatadogMonitoring`` makes a resource of it.
"""

from __future__ import annotations

import pytest

from platform_constructs.datadog.agent import DatadogAgentProps, agent_quota
from platform_constructs.datadog.dashboards import metadata_database
from platform_constructs.datadog.scope import MonitoringScope
from platform_constructs.handles import ClusterHandle, DatabaseMetrics, NetworkHandle, SecretStoreHandle, WorkloadIdentity
from platform_constructs.workloads import LogAccess, Workload

from .refusal import Refusals, refused_with

OPERATOR = Workload(name="eso", namespace="external-secrets", service_account="eso", log_access=LogAccess.NONE)
STORE = SecretStoreHandle(provider={"kubernetes": {}}, identity=WorkloadIdentity(workload=OPERATOR, principal="eso"))
RDS = DatabaseMetrics(
    scope="dbinstanceidentifier:flightdeck-dev-airflow",
    cpu_percent="{agg}:aws.rds.cpuutilization{filter}",
    free_storage_bytes="{agg}:aws.rds.free_storage_space{filter}",
    connections="{agg}:aws.rds.database_connections{filter}",
)


def agent(max_nodes: int) -> DatadogAgentProps:
    return DatadogAgentProps(
        cluster=ClusterHandle(name="flightdeck-dev", node_pools=()),
        network=NetworkHandle(vpc_cidr="10.0.0.0/16", database_cidrs=("10.0.8.0/24",)),
        secret_store=STORE,
        site="datadoghq.eu",
        api_key_secret="flightdeck-dev/datadog",
        tags={"env": "dev", "team": "platform"},
        max_nodes=max_nodes,
    )


def scope(database: DatabaseMetrics | None) -> MonitoringScope:
    return MonitoringScope(env="dev", team="platform", namespaces=("airflow",), database=database)


REFUSED: Refusals = {
    "an agent for a cluster of no nodes": (
        lambda: agent(max_nodes=0),
        "max_nodes is 0; the cluster needs at least one node for the agent",
    ),
    "the database dashboard without the database's metrics": (
        lambda: metadata_database(scope(database=None)),
        "the metadata database dashboard needs the database's metrics",
    ),
}


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_datadog_constructs_refuse_what_they_cannot_build(case: str) -> None:
    make, message = REFUSED[case]
    assert refused_with(make) == message


def test_props_within_their_limits_are_accepted() -> None:
    assert agent_quota(agent(max_nodes=1)).pods == 1 + 2 + 2
    dashboard = metadata_database(scope(database=RDS))
    assert dashboard["title"] == "Airflow dev: metadata database"
